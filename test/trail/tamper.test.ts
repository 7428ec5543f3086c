// The trail end to end: the real proxy (signing key from `npm run trail-key`, small rotation, one
// restart) writes its chained lines and checkpoints, the real shipper indexes them into the real
// node (either engine), and `npm run verify-trail` passes on the untouched files and documents. Then one document is
// altered, one deleted, a forged one inserted (with a consistent line of its own, and one without a
// trail), and one byte of a rotated file is edited: verify-trail exits 1 naming each by proxy and
// sequence, and a moved line in a file is named as reordered.

import assert from 'node:assert/strict';
import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import type { AccessRecord } from '../../common/access-record.ts';
import { FIELD, indexPattern, trailIndexPrefix, type ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { lineHash } from '../../common/trail.ts';
import { toDocument } from '../../shipper/document.ts';
import { withTrail } from '../../shipper/trail-document.ts';
import { ENGINE_NAMES } from '../../common/search-engine.ts';
import { clusterRequest, testElasticsearch, testEngine } from '../helpers/elasticsearch.ts';
import { logFiles, removeDir, serviceConfig, startUpstream, tempDir, type Upstream } from '../proxy/helpers.ts';
import { spawnProxy } from '../proxy/process.ts';
import { startShipper, waitForCount } from '../shipper/shipper-process.ts';
import { makeKeyPair, verifyTrail, type KeyPair } from './verify-trail.ts';

const PROXY_ID = 'edge-1';
const REQUESTS_PER_RUN = 120;

async function drive(url: string, tag: string, count: number): Promise<void> {
  const pool = new Pool(url, { connections: 4 });
  for (let i = 0; i < count; i++) {
    const response = await pool.request({ method: 'GET', path: `/${tag}/${i}`, headers: { host: 'app.test' } });
    await response.body.dump();
  }
  await pool.close();
}

interface LogLine {
  file: string;
  index: number;
  text: string;
  value: { seq: number; checkpoint?: unknown };
}

async function logLines(dir: string): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for (const file of await logFiles(dir)) {
    const texts = (await readFile(file, 'utf8')).split('\n').filter((text) => text.length > 0);
    texts.forEach((text, index) => lines.push({ file, index, text, value: JSON.parse(text) }));
  }
  return lines;
}

describe(`the trail from the proxy’s files to ${ENGINE_NAMES[testEngine()]}`, () => {
  const es = testElasticsearch('trail');
  let dir: string;
  let logs: string;
  let keys: KeyPair;
  let upstream: Upstream;
  let lines: LogLine[];

  before(async () => {
    dir = await tempDir('trail');
    logs = join(dir, 'logs');
    keys = await makeKeyPair(dir);
    upstream = await startUpstream((_seen, res) => res.end('ok'));
    for (const run of ['first', 'second']) {
      const proxy = await spawnProxy(dir, {
        proxy_id: PROXY_ID,
        listen: { host: '127.0.0.1', port: 0 },
        access_log: { dir: logs, rotation: { size: '8k', frequency: 'daily' }, keep: 1_000, signing_key_file: keys.privateFile },
        services: [serviceConfig('app', upstream.url)],
      });
      try {
        await drive(proxy.url, run, REQUESTS_PER_RUN);
        assert.equal(await proxy.terminate(), 0);
      } finally {
        proxy.child.kill('SIGKILL');
      }
    }
    lines = await logLines(logs);
  });
  after(async () => {
    await upstream.close();
    await es.cleanup();
    await removeDir(dir);
  });

  it('trail-key writes the private key readable by its owner only', async () => {
    assert.equal((await stat(keys.privateFile)).mode & 0o777, 0o600);
    const again = await verifyTrail(['--files', logs, '--public-key', keys.publicFile]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it('chains every line across rotation and restart, with signed checkpoints at start, rotation and stop', () => {
    const files = new Set(lines.map((line) => line.file));
    assert.ok(files.size > 4, `rotated into several files: ${files.size}`);
    const records = lines.filter((line) => line.value.checkpoint === undefined);
    assert.equal(records.length, 2 * REQUESTS_PER_RUN);
    lines.forEach((line, i) => {
      if (i > 0) assert.equal(line.value.seq, lines[i - 1]!.value.seq + 1, `${line.file} line ${line.index + 1} follows the line before`);
    });
    const checkpoints = lines.filter((line) => line.value.checkpoint !== undefined);
    // Two starts and two stops, and rotations (two rotations within one 200 ms tick share one).
    assert.ok(checkpoints.length > 4, `checkpoints at start, rotation and stop: ${checkpoints.length} in ${files.size} files`);
    assert.ok(lines.at(-1)!.value.checkpoint !== undefined, 'the stop signs the last lines');
  });

  it('verifies the untouched files and names an edited byte of a rotated file and a moved line', async () => {
    const clean = await verifyTrail(['--files', logs, '--public-key', keys.publicFile]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, new RegExp(`proxy ${PROXY_ID}: sequences \\d+ to \\d+, ${lines.length} entries`));
    assert.match(clean.stdout, /the trail verifies/);
    assert.doesNotMatch(clean.stdout, /new chain/, 'the restart continued the chain');

    const edited = join(dir, 'edited');
    await cp(logs, edited, { recursive: true });
    const rotated = lines.find((line) => line.file !== lines.at(-1)!.file && line.value.checkpoint === undefined && line.index > 2)!;
    const file = join(edited, rotated.file.slice(logs.length + 1));
    const bytes = await readFile(file);
    const at = bytes.indexOf('"path":"/') + '"path":"/'.length + 1;
    bytes[at] = bytes[at] === 0x78 ? 0x79 : 0x78;
    await writeFile(file, bytes);
    const byte = await verifyTrail(['--files', edited, '--public-key', keys.publicFile]);
    assert.equal(byte.code, 1, byte.stdout);
    const firstRecordOfFile = lines.find((line) => line.file === rotated.file && line.value.checkpoint === undefined)!;
    assert.match(byte.stdout, new RegExp(`ALTERED: proxy ${PROXY_ID} sequence ${firstRecordOfFile.value.seq} at ${rotated.file.slice(logs.length + 1).replaceAll('.', '\\.')} line ${firstRecordOfFile.index + 1}: its hash does not match`));

    const moved = join(dir, 'moved');
    await cp(logs, moved, { recursive: true });
    const movedFile = join(moved, rotated.file.slice(logs.length + 1));
    const texts = (await readFile(movedFile, 'utf8')).split('\n');
    [texts[1], texts[2]] = [texts[2]!, texts[1]!];
    await writeFile(movedFile, texts.join('\n'));
    const swap = await verifyTrail(['--files', moved, '--public-key', keys.publicFile]);
    assert.equal(swap.code, 1, swap.stdout);
    assert.match(swap.stdout, new RegExp(`REORDERED: proxy ${PROXY_ID} sequence ${JSON.parse(texts[2]!).seq} at \\S+ line 3`));

    const other = await makeKeyPair(dir, 'other');
    const wrongKey = await verifyTrail(['--files', logs, '--public-key', other.publicFile]);
    assert.equal(wrongKey.code, 1, 'checkpoints signed by a key not given are not trusted');
    assert.match(wrongKey.stdout, /UNSIGNED: .*not among the public keys given/);
  });

  it('verifies the shipped documents, then names an altered, a deleted and an inserted one', async () => {
    const shipper = startShipper({ logs, state: join(dir, 'state'), connection: es.connection, prefix: es.prefix });
    const checkpointCount = lines.filter((line) => line.value.checkpoint !== undefined).length;
    try {
      await waitForCount(es.storage, es.prefix, 2 * REQUESTS_PER_RUN);
      await waitForCount(es.storage, trailIndexPrefix(es.prefix), checkpointCount);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    const clean = await verifyTrail(['--public-key', keys.publicFile, '--index-prefix', es.prefix], es.connection);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, new RegExp(`proxy ${PROXY_ID}: sequences \\d+ to \\d+, ${lines.length} entries, ${checkpointCount} checkpoints`));

    const search = await es.storage.search<ProxyEventDocument>({ index: indexPattern(es.prefix), size: 1_000, sort: [{ [FIELD.eventSequence]: 'asc' }] });
    const hits = search.hits.hits;
    const [alteredHit, deletedHit, copiedHit] = [hits[20]!, hits[60]!, hits[150]!];
    // Tampering is no part of the storage seam: plain REST, the same on both engines.
    const tamper = async (method: string, path: string, body?: unknown) => {
      const { status } = await clusterRequest(es.connection, method, `${path}?refresh=true`, body);
      assert.ok(status < 300, `${method} ${path}: ${status}`);
    };
    await tamper('POST', `/${alteredHit._index}/_update/${encodeURIComponent(alteredHit._id!)}`, { doc: { http: { response: { status_code: 500 } }, url: { path: '/nothing-to-see' } } });
    await tamper('DELETE', `/${deletedHit._index}/_doc/${encodeURIComponent(deletedHit._id!)}`);
    const copied = copiedHit._source!;
    const forgedRecord = { ...(JSON.parse(copied.event.original!) as AccessRecord), id: 'forged', path: '/forged' };
    const forgedLine = JSON.stringify(forgedRecord);
    await tamper('PUT', `/${copiedHit._index}/_doc/forged`, withTrail(toDocument(forgedRecord), forgedRecord, forgedLine));
    const unchained = { ...forgedRecord, id: 'unchained' } as AccessRecord;
    delete unchained.seq;
    delete unchained.prev;
    await tamper('PUT', `/${copiedHit._index}/_doc/unchained`, toDocument(unchained));
    assert.notEqual(lineHash(forgedLine), copied.event.hash);

    const tampered = await verifyTrail(['--public-key', keys.publicFile, '--index-prefix', es.prefix], es.connection);
    assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr);
    const out = tampered.stdout;
    assert.match(out, new RegExp(`ALTERED: proxy ${PROXY_ID} sequence ${alteredHit._source!.event.sequence} at ${alteredHit._index}/${alteredHit._id}: the document differs from its original line in http\\.response\\.status_code, url\\.path`));
    assert.match(out, new RegExp(`MISSING: proxy ${PROXY_ID} sequence ${deletedHit._source!.event.sequence}: sequence ${deletedHit._source!.event.sequence} missing`));
    assert.match(out, new RegExp(`INSERTED: proxy ${PROXY_ID} sequence ${copied.event.sequence} at ${copiedHit._index}/forged: a second entry at this sequence`));
    assert.match(out, new RegExp(`INSERTED: proxy ${PROXY_ID} at ${copiedHit._index}/unchained: a document without a place in the trail`));
    assert.equal(out.split('\n').filter((line) => / (ALTERED|MISSING|INSERTED|REORDERED|UNSIGNED): /.test(line)).length, 4, out);
  });
});
