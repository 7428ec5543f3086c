// The syslog output against Debian's rsyslogd as the receiver, over TCP and over TLS: every event
// arrives, parsed by rsyslog as RFC 5424 with the event id Elasticsearch has as `_id`; rsyslogd
// stopped and started again mid-stream loses nothing, while Elasticsearch goes on being fed.

import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCheckpoint } from '../../shipper/checkpoint.ts';
import { outputCheckpointPath } from '../../shipper/outputs/pipeline.ts';
import { STRUCTURED_DATA_ID } from '../../shipper/outputs/syslog.ts';
import { makeClusterCertificates } from '../../ops/elasticsearch/certificates.ts';
import { accessLogName, appendRecords, testRecord } from '../helpers/records.ts';
import { startRsyslog, type ReceivedMessage } from '../helpers/rsyslog.ts';
import { shipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { countDocuments, startShipper, waitForCount } from './shipper-process.ts';
import { documentsById, LONG_WAIT, outageMidStream, outputNumbers, sameIds, withOutputs } from './siem.ts';

function structuredEventIds(messages: ReceivedMessage[]): string[] {
  return messages.map((message) => /event_id="([^"]+)"/.exec(message.structured_data)?.[1] ?? '(none)');
}

describe('syslog output to rsyslog', () => {
  it('delivers every event over TCP as RFC 5424 structured data, and loses nothing when rsyslogd stops and starts mid-stream', async (t) => {
    const workspace = await shipperWorkspace('siem-syslog');
    t.after(() => workspace.remove());
    const { es, logs, state } = workspace;
    const rsyslog = await startRsyslog(join(workspace.dir, 'rsyslog'));
    t.after(() => rsyslog.stop());
    const output = { name: 'siem', type: 'syslog', host: '127.0.0.1', port: rsyslog.port, batch: { max_lines: 50, flush_interval_ms: 100 } };
    const shipper = startShipper(await withOutputs(workspace, [output]));
    t.after(() => shipper.kill());

    const total = await outageMidStream(workspace, shipper, 'siem', { events: async () => (await rsyslog.received()).length, stop: () => rsyslog.stop(), start: () => rsyslog.start() });

    const indexed = await documentsById(es.client, es.prefix);
    const received = await waitFor(
      'rsyslog to hold every event id Elasticsearch has',
      async () => {
        const messages = await rsyslog.received();
        return sameIds(structuredEventIds(messages), indexed).missing.length === 0 && messages;
      },
      LONG_WAIT,
    );
    const { missing, unknown } = sameIds(structuredEventIds(received), indexed);
    assert.deepEqual({ missing, unknown }, { missing: [], unknown: [] });
    assert.ok(received.length >= total, 'at least once: repeats allowed, nothing missing');

    // The fields as rsyslog parsed them.
    const first = received.find((message) => message.structured_data.includes('id="req-6"'))!;
    const record = testRecord(6);
    assert.equal(first.hostname, record.proxy);
    assert.equal(first.app_name, 'proxy-access-log');
    assert.equal(first.msgid, 'access');
    assert.equal(first.facility, '16');
    assert.equal(first.severity, '4', 'a 401 is a warning');
    assert.ok(first.structured_data.startsWith(`[${STRUCTURED_DATA_ID} event_id="`));
    assert.match(first.structured_data, new RegExp(` path="${record.path}" status="401" `));
    assert.equal(first.msg, `${record.method} ${record.host}${record.path} 401`);

    assert.equal(await shipper.stop(), 0);
    const checkpoint = await loadCheckpoint(outputCheckpointPath(state, 'siem'));
    assert.deepEqual(Object.values(checkpoint.files).map((file) => file.offset), [(await stat(join(logs, accessLogName(1)))).size]);
    assert.equal(await countDocuments(es.storage, es.prefix), total);
  });

  it('delivers the document as a JSON message over TLS, checking the receiver’s certificate', async (t) => {
    const workspace = await shipperWorkspace('siem-syslog-tls');
    t.after(() => workspace.remove());
    const { es, logs } = workspace;
    const [certificates, stranger] = await Promise.all([makeClusterCertificates(), makeClusterCertificates()]);
    const rsyslog = await startRsyslog(join(workspace.dir, 'rsyslog'), certificates);
    t.after(() => rsyslog.stop());
    await writeFile(join(workspace.dir, 'ca.pem'), certificates.ca);
    await writeFile(join(workspace.dir, 'stranger-ca.pem'), stranger.ca);
    const tls = { type: 'syslog', host: '127.0.0.1', port: rsyslog.port, transport: 'tls', format: 'json' };
    const args = await withOutputs(workspace, [
      { ...tls, name: 'siem', tls: { ca_file: 'ca.pem' } },
      // The same receiver, trusted through a CA that did not sign its certificate: never delivered to.
      { ...tls, name: 'untrusting', tls: { ca_file: 'stranger-ca.pem' } },
    ]);
    appendRecords(logs, 1, 0, 200);
    const shipper = startShipper(args);
    t.after(() => shipper.kill());

    await waitForCount(es.storage, es.prefix, 200);
    const indexed = await documentsById(es.client, es.prefix);
    const received = await waitFor('rsyslog to receive 200 events over TLS', async () => {
      const messages = await rsyslog.received();
      return messages.length >= 200 && messages;
    }, LONG_WAIT);
    const documents = received.map((message) => {
      assert.equal(message.structured_data, '-');
      return JSON.parse(message.msg) as Record<string, unknown> & { event_id: string };
    });
    assert.deepEqual(sameIds(documents.map((document) => document.event_id), indexed), { missing: [], unknown: [] });
    for (const { event_id, ...document } of documents) assert.deepEqual(document, indexed.get(event_id), 'the same document Elasticsearch has');

    const untrusting = await waitFor('the untrusting output to be refused twice', async () => {
      const numbers = await outputNumbers(shipper, 'untrusting');
      return numbers.retries >= 2 && numbers;
    }, LONG_WAIT);
    assert.equal(untrusting.delivered, 0);
    const refusal = shipper.stderr().split('\n').find((line) => line.includes('"output":"untrusting"') && line.includes('output receiver did not confirm a batch'));
    assert.match(refusal ?? '(no line)', /"reason":"syslog receiver tls:\/\/127\.0\.0\.1:\d+: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)"/);
    assert.equal((await outputNumbers(shipper, 'siem')).delivered, 200);
    assert.equal(await shipper.stop(), 0);
  });
});
