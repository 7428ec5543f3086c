// Peer: rsyslog reading the same access.<N>.log files with imfile and indexing them with
// omelasticsearch (Debian rsyslog-elasticsearch), set up as an operator would for this job:
// - imfile (inotify) over access.*.log, its offsets persisted every 1,000 lines
//   (PersistStateInterval; the default persists them only at shutdown);
// - mmjsonparse on the raw line, and a list template that renames the record's fields to the
//   same ECS fields this shipper writes (names taken from FIELD, never spelled here). rsyslog has
//   no geo lookup, no float arithmetic for event.duration in nanoseconds and no category rules
//   short of re-implementing them in RainerScript, so its documents carry the renamed fields only;
// - omelasticsearch in bulk mode against Elasticsearch 8 (esVersion.major, no _type), daily index
//   from the record's time, an in-memory action queue (a disk-assisted queue would survive a
//   crash at a large cost in speed), retrying forever. No bulkid: Elasticsearch assigns ids.
// rsyslogd runs in the foreground (-n) with this config only (-f), never the system one.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIELD } from '../../../common/proxy-event-document.ts';
import { toDocument } from '../../../shipper/document.ts';
import { testRecord } from '../../../test/helpers/records.ts';
import { start, type Started } from './processes.ts';
import { rsyslogModuleDir } from './prerequisites.ts';

/** record key → document field, for the fields rsyslog can carry over by renaming. */
const STRING_FIELDS: [string, string][] = [
  ['time', FIELD.timestamp],
  ['id', FIELD.eventId],
  ['method', FIELD.method],
  ['host', FIELD.domain],
  ['path', FIELD.path],
  ['protocol', FIELD.scheme],
  ['source_ip', FIELD.sourceIp],
  ['user_id', FIELD.userId],
  ['user_agent', FIELD.userAgent],
  ['service', FIELD.serviceName],
  ['proxy', FIELD.observerName],
  ['reason', FIELD.reason],
  ['auth_method', FIELD.authMethod],
];
const NUMBER_FIELDS: [string, string][] = [
  ['status', FIELD.statusCode],
  ['bytes_in', FIELD.bytesIn],
  ['bytes_out', FIELD.bytesOut],
];

function constants(): [string, string][] {
  const sample = toDocument(testRecord(0));
  return [
    [FIELD.eventKind, sample.event.kind],
    [FIELD.eventCategory, sample.event.category[0]],
    [FIELD.eventType, sample.event.type[0]],
  ];
}

export function rsyslogConfig(options: { logs: string; work: string; port: number; prefix: string }): string {
  const fields = [
    ...STRING_FIELDS.map(([key, field]) => `  property(outname="${field}" name="$!${key}" format="jsonf" onEmpty="skip")`),
    ...NUMBER_FIELDS.map(([key, field]) => `  property(outname="${field}" name="$!${key}" format="jsonf" datatype="number" onEmpty="skip")`),
    ...constants().map(([field, value]) => `  constant(outname="${field}" value="${value}" format="jsonf")`),
  ];
  return `global(workDirectory="${options.work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="mmjsonparse")
module(load="omelasticsearch")

template(name="ecs" type="list" option.jsonf="on") {
${fields.join('\n')}
}
template(name="daily-index" type="list") {
  constant(value="${options.prefix}-")
  property(name="$!time" position.from="1" position.to="4")
  constant(value=".")
  property(name="$!time" position.from="6" position.to="7")
  constant(value=".")
  property(name="$!time" position.from="9" position.to="10")
}

input(type="imfile" file="${options.logs}/access.*.log" tag="access" ruleset="ship" persistStateInterval="1000" freshStartTail="off")

ruleset(name="ship") {
  action(type="mmjsonparse" cookie="" useRawMsg="on")
  if $parsesuccess == "OK" then {
    action(type="omelasticsearch" server="127.0.0.1" serverport="${options.port}" esVersion.major="8"
           template="ecs" searchIndex="daily-index" dynSearchIndex="on"
           bulkmode="on" maxbytes="5m"
           queue.type="linkedList" queue.size="200000" queue.dequeueBatchSize="5000"
           action.resumeRetryCount="-1")
  }
}
`;
}

export function rsyslogVersion(): string {
  return 'rsyslogd';
}

export async function startRsyslog(dir: string, options: { logs: string; port: number; prefix: string }): Promise<Started> {
  const work = join(dir, 'work');
  await mkdir(work, { recursive: true });
  const conf = join(dir, 'rsyslog.conf');
  await writeFile(conf, rsyslogConfig({ ...options, work }));
  const args = ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')];
  const moduleDir = rsyslogModuleDir();
  if (moduleDir) args.push('-M', moduleDir);
  return await start('rsyslogd', 'rsyslogd', args, { ready: undefined, probe: async () => true });
}
