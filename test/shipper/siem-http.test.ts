// The HTTP output against a receiver in the test (node:http): Splunk HEC events and generic NDJSON,
// the receiver stopped and started again mid-stream and refusing batches, with nothing lost and
// Elasticsearch fed meanwhile; and what an output that fell behind says when its file is gone.

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { accessLogName, appendRecords, testRecord } from '../helpers/records.ts';
import { shipperWorkspace, type ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { startShipper, waitForCount } from './shipper-process.ts';
import { documentsById, LONG_WAIT, outageMidStream, outputNumbers, sameIds, withOutputs } from './siem.ts';

interface Received {
  headers: IncomingHttpHeaders;
  lines: string[];
}

interface Receiver {
  url: string;
  /** Batches answered 2xx. */
  accepted: Received[];
  /** The status the next requests get; 200 accepts them. */
  status: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let server: Server | undefined;
  let port = 0;
  const receiver: Receiver = {
    url: '',
    accepted: [],
    status: 200,
    async start() {
      const listening = createServer((request, response) => {
        let body = '';
        request.setEncoding('utf8').on('data', (text: string) => (body += text));
        request.on('end', () => {
          const status = receiver.status;
          if (status === 200) receiver.accepted.push({ headers: request.headers, lines: body.split('\n').filter((line) => line !== '') });
          response.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"text":"Success","code":0}' : '{"text":"Server is busy","code":9}');
        });
      });
      await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
      port = (listening.address() as { port: number }).port;
      receiver.url = `http://127.0.0.1:${port}/services/collector/event`;
      server = listening;
    },
    async stop() {
      const stopping = server;
      server = undefined;
      if (!stopping) return;
      const closed = new Promise((resolve) => stopping.close(resolve));
      stopping.closeAllConnections();
      await closed;
    },
  };
  await receiver.start();
  return receiver;
}

/** A suite's workspace and a receiver that refuses (503) until told otherwise; both removed after the test. */
async function refusedWorkspace(t: TestContext, suite: string): Promise<{ workspace: ShipperWorkspace; receiver: Receiver }> {
  const workspace = await shipperWorkspace(suite);
  t.after(() => workspace.remove());
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  receiver.status = 503;
  return { workspace, receiver };
}

describe('HTTP output', () => {
  it('delivers Splunk HEC events with the token from its file, and loses nothing when the receiver stops and starts mid-stream', async (t) => {
    const workspace = await shipperWorkspace('siem-hec');
    t.after(() => workspace.remove());
    const { es } = workspace;
    const receiver = await startReceiver();
    t.after(() => receiver.stop());
    await writeFile(join(workspace.dir, 'hec-token'), 'hec-token-3b1f\n');
    const output = { name: 'splunk', type: 'http', format: 'hec', url: receiver.url, token_file: 'hec-token', batch: { max_lines: 40, flush_interval_ms: 100 } };
    const shipper = startShipper(await withOutputs(workspace, [output]));
    t.after(() => shipper.kill());
    const events = () => receiver.accepted.reduce((sum, batch) => sum + batch.lines.length, 0);

    await outageMidStream(workspace, shipper, 'splunk', { events, stop: () => receiver.stop(), start: () => receiver.start() });

    const indexed = await documentsById(es.client, es.prefix);
    const hecEvents = () => receiver.accepted.flatMap((batch) => batch.lines.map((line) => JSON.parse(line) as { time: number; host: string; source: string; sourcetype: string; event: { event_id: string } }));
    await waitFor('the receiver to hold every event id Elasticsearch has', () => sameIds(hecEvents().map((event) => event.event.event_id), indexed).missing.length === 0, LONG_WAIT);
    assert.deepEqual(sameIds(hecEvents().map((event) => event.event.event_id), indexed), { missing: [], unknown: [] });

    for (const batch of receiver.accepted) {
      assert.equal(batch.headers.authorization, 'Splunk hec-token-3b1f');
      assert.equal(batch.headers['content-type'], 'application/json');
    }
    const record = testRecord(7);
    const seventh = hecEvents().find((event) => (event.event as unknown as { event: { id: string } }).event.id === record.id)!;
    const { event_id, ...document } = seventh.event;
    assert.deepEqual(document, indexed.get(event_id));
    assert.deepEqual({ ...seventh, event: undefined }, { time: Date.parse(record.time) / 1000, host: record.proxy, source: 'proxy-access-log', sourcetype: '_json', event: undefined });
    assert.doesNotMatch(shipper.stderr(), /hec-token-3b1f/, 'the token never reaches the diagnostics');
    assert.equal(await shipper.stop(), 0);
  });

  it('sends generic NDJSON again until the receiver accepts it, and skips lines that are not records', async (t) => {
    const { workspace, receiver } = await refusedWorkspace(t, 'siem-ndjson');
    const { es, logs } = workspace;
    const shipper = startShipper(await withOutputs(workspace, [{ name: 'generic', type: 'http', url: receiver.url }]));
    t.after(() => shipper.kill());
    appendRecords(logs, 1, 0, 100);
    appendFileSync(join(logs, accessLogName(1)), 'not a record\n');
    appendRecords(logs, 1, 100, 150);

    await waitForCount(es.storage, es.prefix, 150);
    const refused = await waitFor('three refusals', async () => {
      const numbers = await outputNumbers(shipper, 'generic');
      return numbers.retries >= 3 && numbers;
    }, LONG_WAIT);
    assert.equal(refused.delivered, 0);
    assert.equal(refused.skipped, 1);
    assert.ok(refused.lag_bytes > 0);
    receiver.status = 200;
    const indexed = await documentsById(es.client, es.prefix);
    const ids = () => receiver.accepted.flatMap((batch) => batch.lines.map((line) => (JSON.parse(line) as { event_id: string }).event_id));
    await waitFor('every event accepted', () => ids().length >= 150, LONG_WAIT);
    assert.deepEqual(sameIds(ids(), indexed), { missing: [], unknown: [] });
    assert.equal(receiver.accepted[0]!.headers['content-type'], 'application/x-ndjson');
    assert.equal(receiver.accepted[0]!.headers.authorization, undefined);
    const caughtUp = await waitFor('the output caught up', async () => {
      const numbers = await outputNumbers(shipper, 'generic');
      return numbers.lag_bytes === 0 && numbers;
    }, LONG_WAIT);
    assert.equal(caughtUp.delivered, 150);
    assert.equal(await shipper.stop(), 0);
  });

  it('reports the bytes an output never read when its file was deleted while it was behind, and Elasticsearch loses nothing', async (t) => {
    const { workspace, receiver } = await refusedWorkspace(t, 'siem-gone');
    const { es, logs } = workspace;
    const args = await withOutputs(workspace, [{ name: 'behind', type: 'http', url: receiver.url }]);
    appendRecords(logs, 1, 0, 100);
    let shipper = startShipper(args);
    t.after(() => shipper.kill());
    await waitForCount(es.storage, es.prefix, 100);
    await waitFor('the output refused', async () => (await outputNumbers(shipper, 'behind')).retries >= 1, LONG_WAIT);
    assert.equal(await shipper.stop(), 0);

    // Rotation's retention deletes the file the output had not delivered yet.
    const lostBytes = (await stat(join(logs, accessLogName(1)))).size;
    await rm(join(logs, accessLogName(1)));
    appendRecords(logs, 2, 100, 150);
    receiver.status = 200;
    shipper = startShipper(args);
    await waitForCount(es.storage, es.prefix, 150);
    const numbers = await waitFor('the output caught up with what is left', async () => {
      const sample = await outputNumbers(shipper, 'behind');
      return sample.delivered === 50 && sample.lag_bytes === 0 && sample;
    }, LONG_WAIT);
    assert.equal(numbers.bytes_lost, lostBytes);
    const warning = shipper.stderr().split('\n').find((line) => line.includes('log file bytes lost before this output read them'));
    assert.match(warning ?? '(no warning)', /"output":"behind".*"file":"access\.1\.log".*"bytes_lost":\d+/);
    assert.doesNotMatch(shipper.stderr(), /"msg":"log file bytes lost before they were read"/, 'Elasticsearch had read it all');
    const ids = receiver.accepted.flatMap((batch) => batch.lines.map((line) => (JSON.parse(line) as { event: { id: string } }).event.id));
    assert.deepEqual(new Set(ids), new Set(Array.from({ length: 50 }, (_, i) => `req-${100 + i}`)));
    assert.equal(await shipper.stop(), 0);
  });
});
