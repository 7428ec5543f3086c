// Configuration errors name their key and exit 1; ids and line parsing behave as documented.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_BULKS_IN_FLIGHT, loadConfig } from '../../shipper/config.ts';
import { documentId } from '../../shipper/document-id.ts';
import { SHIPPER_NODE_FLAGS } from '../../shipper/node-flags.ts';
import { parseLine } from '../../shipper/parse-line.ts';
import { recordLine, testRecord } from '../helpers/records.ts';

const run = promisify(execFile);
const NO_ES: NodeJS.ProcessEnv = {};

describe('shipper configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipper-config-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('takes a config file, with flags overriding it', async () => {
    const file = join(dir, 'ok.json');
    await writeFile(file, JSON.stringify({ logs: '/var/log/proxy', state: 'state', elasticsearch: { url: 'http://127.0.0.1:9200' }, batch: { max_lines: 100 } }));
    const config = loadConfig(['--config', file, '--index-prefix', 'edge', '--batch-bytes', '1000'], NO_ES);
    assert.equal(config.logs, '/var/log/proxy');
    assert.equal(config.index_prefix, 'edge');
    assert.deepEqual(config.batch, { max_lines: 100, max_bytes: 1000, flush_interval_ms: 500, max_in_flight: DEFAULT_BULKS_IN_FLIGHT });
    assert.equal(config.elasticsearch.url, 'http://127.0.0.1:9200');
  });

  it('takes the cluster from ELASTICSEARCH_* when nothing else names it', () => {
    const env = { ELASTICSEARCH_URL: 'https://es.internal:9200', ELASTICSEARCH_USERNAME: 'shipper', ELASTICSEARCH_PASSWORD: 'pw' };
    const config = loadConfig(['--logs', 'l', '--state', 's'], env);
    assert.equal(config.elasticsearch.username, 'shipper');
  });

  it('takes relative paths in the file from its folder, and those of flags from the working directory', async () => {
    const file = join(dir, 'relative.json');
    await writeFile(file, JSON.stringify({ logs: 'logs', state: '../state', elasticsearch: { url: 'http://127.0.0.1:9200', ca_file: 'ca.pem' } }));
    const config = loadConfig(['--config', file], NO_ES);
    assert.equal(config.logs, join(dir, 'logs'));
    assert.equal(config.state, join(dir, '..', 'state'));
    assert.equal(config.elasticsearch.ca_file, join(dir, 'ca.pem'));
    assert.equal(loadConfig(['--config', file, '--logs', 'flagged'], NO_ES).logs, join(process.cwd(), 'flagged'));
  });

  it('names the bad key, as code CONFIG_INVALID', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ logs: 'l', state: 's', elasticsearch: { url: 'http://h:9200' }, batch: { max_lines: -5 } }));
    assert.throws(() => loadConfig(['--config', file], NO_ES), { code: 'CONFIG_INVALID', message: /^ {2}batch\.max_lines: /m });
    assert.throws(() => loadConfig(['--logs', 'l', '--state', 's'], NO_ES), /^ {2}elasticsearch: /m);
    assert.throws(() => loadConfig(['--logs', 'l', '--state', 's', '--elasticsearch', 'http://h', '--metrics-port', 'abc'], NO_ES), /^ {2}metrics\.port: /m);
    assert.throws(() => loadConfig(['--logs', 'l', '--state', 's', '--elasticsearch', 'http://h', '--index-prefix', 'Bad*'], NO_ES), /^ {2}index_prefix: /m);
    assert.throws(() => loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'ftp://h' }), /\(ELASTICSEARCH_\* environment\):\n {2}elasticsearch\.url: /);
    assert.throws(() => loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'http://h', ELASTICSEARCH_NODES: 'http://h2,ftp://h3' }), /^ {2}elasticsearch\.nodes\[1\]: /m);
    const nodes = loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'http://h', ELASTICSEARCH_NODES: 'http://h2, http://h3' });
    assert.deepEqual(nodes.elasticsearch.nodes, ['http://h2', 'http://h3']);
    await writeFile(file, JSON.stringify({ logs: 'l', state: 's', elasticsearch: { url: 'http://h:9200' }, batchSize: 3 }));
    assert.throws(() => loadConfig(['--config', file], NO_ES), /^ {2}batchSize: unknown key$/m);
    await writeFile(file, '{ "logs": ');
    assert.throws(() => loadConfig(['--config', file], NO_ES), { code: 'CONFIG_INVALID', message: /bad\.json is not valid JSON/ });
  });

  it('exits 1 naming the bad key, in a file or a flag', async () => {
    const file = join(dir, 'bad-process.json');
    await writeFile(file, JSON.stringify({ logs: 'l', state: 's', elasticsearch: { url: 'http://h:9200' }, metrics: { host: 'localhost' } }));
    const fromFile = await run(process.execPath, ['shipper/main.ts', '--config', file], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((fromFile as { code: number }).code, 1);
    assert.equal((fromFile as { stderr: string }).stderr, `shipper: invalid configuration (${file}):\n  metrics.host: must be an IP address\n`);
    const fromFlag = await run(process.execPath, ['shipper/main.ts', '--logs', 'l', '--state', 's', '--elasticsearch', 'ftp://h'], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((fromFlag as { code: number }).code, 1);
    assert.match((fromFlag as { stderr: string }).stderr, /^shipper: invalid configuration \(--elasticsearch and ELASTICSEARCH_\* environment\):\n {2}elasticsearch\.url: /);
  });

  it('exits 1 naming batch.max_in_flight when it is not a count of requests from 1 to 16', async () => {
    const file = join(dir, 'bad-in-flight.json');
    const write = (value: unknown) => writeFile(file, JSON.stringify({ logs: 'l', state: 's', elasticsearch: { url: 'http://h:9200' }, batch: { max_in_flight: value } }));
    for (const bad of [0, 17, 1.5, '2']) {
      await write(bad);
      assert.throws(() => loadConfig(['--config', file], NO_ES), { code: 'CONFIG_INVALID', message: /^ {2}batch\.max_in_flight: /m }, `max_in_flight ${JSON.stringify(bad)}`);
    }
    const result = await run(process.execPath, ['shipper/main.ts', '--config', file], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((result as { code: number }).code, 1);
    assert.match((result as { stderr: string }).stderr, /^shipper: invalid configuration \(.*\):\n {2}batch\.max_in_flight: /);
  });

  it('exits 1 naming batch.max_in_flight when its batches would not fit in the heap the shipper is started with', async () => {
    const file = join(dir, 'heap.json');
    const write = (batch: object) => writeFile(file, JSON.stringify({ logs: 'l', state: 's', elasticsearch: { url: 'http://127.0.0.1:1' }, batch }));
    // The configuration loaded as the shipper loads it, in a process with the shipper's heap.
    const loadUnderShipperHeap = () =>
      run(process.execPath, [...SHIPPER_NODE_FLAGS, '--input-type=module', '-e', `(await import('./shipper/config.ts')).loadConfig(['--config', ${JSON.stringify(file)}]); console.log('fits')`], { env: { PATH: process.env.PATH } });
    await write({});
    assert.equal((await loadUnderShipperHeap()).stdout.trim(), 'fits', 'the default batches fit');
    await write({ max_in_flight: 16, max_bytes: 5 * 1024 * 1024 });
    const refused = (await run(process.execPath, [...SHIPPER_NODE_FLAGS, 'shipper/main.ts', '--config', file], { env: { PATH: process.env.PATH }, timeout: 30_000 }).catch((error: unknown) => error)) as { code: number; stderr: string };
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^ {2}batch\.max_in_flight: 16 batches in flight of batch\.max_bytes 5242880 need some \d+ MiB of heap, over this process's \d+ MiB: lower them, or raise --max-old-space-size/m);
    assert.doesNotThrow(() => loadConfig(['--config', file], NO_ES), 'a process with the usual heap takes them');
  });
});

describe('SIEM output configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipper-outputs-config-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));
  const base = { logs: 'l', state: 's', elasticsearch: { url: 'http://h:9200' } };

  it('fills defaults, and reads the token and CA files from the file’s folder', async () => {
    await writeFile(join(dir, 'token'), '  hec-token\n');
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    const file = join(dir, 'outputs.json');
    const outputs = [
      { name: 'syslog', type: 'syslog', host: 'siem.internal', port: 6514, transport: 'tls', tls: { ca_file: 'ca.pem' } },
      { name: 'splunk', type: 'http', url: 'https://splunk.internal:8088/services/collector/event', format: 'hec', token_file: 'token' },
    ];
    await writeFile(file, JSON.stringify({ ...base, outputs }));
    const [syslog, splunk] = loadConfig(['--config', file], NO_ES).outputs;
    assert.deepEqual(syslog, {
      ...outputs[0],
      format: 'structured',
      facility: 16,
      timeout_ms: 10_000,
      batch: { max_lines: 1000, max_bytes: 1024 * 1024, flush_interval_ms: 1000 },
      tls: { ca_file: { file: join(dir, 'ca.pem'), text: '-----BEGIN CERTIFICATE-----\n' } },
    });
    assert.equal(splunk?.type === 'http' && splunk.token_file?.text, 'hec-token');
    assert.deepEqual(loadConfig(['--logs', 'l', '--state', 's', '--elasticsearch', 'http://h'], NO_ES).outputs, [], 'none by default');
  });

  it('names each bad key of an output', async () => {
    const file = join(dir, 'bad-outputs.json');
    const bad: Array<[unknown, RegExp]> = [
      [{ name: 'a', type: 'syslog', host: 'h', port: 0 }, /^ {2}outputs\[0\]\.port: /m],
      [{ name: 'a', type: 'syslog', host: 'h', port: 514, transport: 'udp' }, /^ {2}outputs\[0\]\.transport: /m],
      [{ name: 'a', type: 'syslog', host: 'h', port: 514, transport: 'tls', tls: { ca_file: 'missing.pem' } }, /^ {2}outputs\[0\]\.tls\.ca_file: cannot read .*missing\.pem: ENOENT$/m],
      [{ name: 'a', type: 'syslog', host: 'h', port: 514, format: 'cef' }, /^ {2}outputs\[0\]\.format: /m],
      [{ name: 'a', type: 'http', url: 'ftp://h/' }, /^ {2}outputs\[0\]\.url: /m],
      [{ name: 'a', type: 'http', url: 'https://h/', format: 'hec' }, /^ {2}outputs\[0\]\.token_file: required for format "hec"$/m],
      [{ name: 'Bad Name', type: 'http', url: 'https://h/' }, /^ {2}outputs\[0\]\.name: /m],
      [{ name: 'a', type: 'kafka' }, /^ {2}outputs\[0\]\.type: /m],
      [{ name: 'a', type: 'http', url: 'https://h/', batch: { max_lines: 0 } }, /^ {2}outputs\[0\]\.batch\.max_lines: /m],
    ];
    for (const [output, message] of bad) {
      await writeFile(file, JSON.stringify({ ...base, outputs: [output] }));
      assert.throws(() => loadConfig(['--config', file], NO_ES), { code: 'CONFIG_INVALID', message }, JSON.stringify(output));
    }
    await writeFile(join(dir, 'empty-token'), '\n');
    await writeFile(file, JSON.stringify({ ...base, outputs: [{ name: 'a', type: 'http', url: 'https://h/', token_file: 'empty-token' }] }));
    assert.throws(() => loadConfig(['--config', file], NO_ES), /^ {2}outputs\[0\]\.token_file: .*empty-token is empty$/m);
    await writeFile(file, JSON.stringify({ ...base, outputs: [{ name: 'a', type: 'http', url: 'https://h/' }, { name: 'a', type: 'http', url: 'https://h/' }] }));
    assert.throws(() => loadConfig(['--config', file], NO_ES), /^ {2}outputs\[1\]\.name: "a" is used by another output$/m);
  });

  it('exits 1 naming the bad key of an output', async () => {
    const file = join(dir, 'bad-process.json');
    await writeFile(file, JSON.stringify({ ...base, outputs: [{ name: 'siem', type: 'syslog', host: 'h', port: 70000 }] }));
    const failed = await run(process.execPath, ['shipper/main.ts', '--config', file], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((failed as { code: number }).code, 1);
    assert.match((failed as { stderr: string }).stderr, /^shipper: invalid configuration \(.*\):\n {2}outputs\[0\]\.port: /);
  });
});

describe('document ids', () => {
  it('depend on proxy, file identity and offset only', () => {
    const id = documentId('proxy-a', '1:2:3/0', 100);
    assert.equal(id, documentId('proxy-a', '1:2:3/0', 100));
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    const others = [documentId('proxy-b', '1:2:3/0', 100), documentId('proxy-a', '1:2:4/0', 100), documentId('proxy-a', '1:2:3/1', 100), documentId('proxy-a', '1:2:3/0', 101)];
    assert.equal(new Set([id, ...others]).size, 5);
  });
});

describe('line parsing', () => {
  it('accepts a record and explains every rejection', () => {
    assert.equal(parseLine(Buffer.from(recordLine(testRecord(1)).trimEnd()), undefined).ok, true);
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('not json'), /^not JSON/],
      [Buffer.from('{"time":'), /^not JSON/],
      [Buffer.from(JSON.stringify({ ...testRecord(1), status: 'ok' })), /status/],
      [Buffer.from(JSON.stringify({ ...testRecord(1), source_ip: 'nowhere' })), /source_ip/],
      [Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /invalid UTF-8/],
    ];
    for (const [bytes, error] of cases) {
      const parsed = parseLine(bytes, undefined);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, error);
    }
  });
});
