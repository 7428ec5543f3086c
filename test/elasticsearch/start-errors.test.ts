// A local node that cannot start says why in plain words, naming the path and what to do, with
// the node's own log below: never only a Java stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startLocalNode } from '../../ops/elasticsearch/local-node.ts';
import { explainStartFailure } from '../../ops/elasticsearch/start-failure.ts';
import { SERVICE_USER } from '../../ops/elasticsearch/run-as.ts';

const isRoot = process.getuid?.() === 0;

/** The message's first paragraph: what a person reads before the log tail. */
const summary = (message: string) => message.split('\n--- ')[0]!;

describe('a local node that cannot start', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('names a data directory its user cannot reach, before starting anything', { skip: !isRoot && 'needs root: only then does the node run as a user of its own' }, async () => {
    // mkdtemp makes a 0700 folder: closed to the node's user, like root's home.
    const closed = await mkdtemp(join(tmpdir(), 'pal-closed-'));
    dirs.push(closed);
    const dataDir = join(closed, 'data');
    await assert.rejects(startLocalNode({ dataDir }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ES_START_FAILED');
      assert.match(error.message, new RegExp(`runs as user "${SERVICE_USER}", which cannot reach its data directory ${dataDir}`));
      assert.match(error.message, /run as a user other than root/);
      assert.doesNotMatch(error.message, /\bat [\w.$]+\(/, 'no stack trace');
      return true;
    });
  });

  it('explains from its own log a port that is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      await assert.rejects(startLocalNode({ httpPort: port, heap: '256m' }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ES_START_FAILED');
        const text = summary(error.message);
        assert.match(text, /a port the node needs is already in use on 127\.0\.0\.1/);
        assert.ok(text.length < 400, `one or two sentences, not a trace:\n${text}`);
        assert.doesNotMatch(text, /\bat [\w.$]+\(/, 'no stack trace in the summary');
        assert.match(error.message, /--- the node's last log lines ---\n./, 'the log tail follows');
        return true;
      });
    } finally {
      holder.close();
    }
  });

  it('npm run elasticsearch refuses an unknown engine, and a cluster of OpenSearch, naming the flag', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '../../ops/elasticsearch/main.ts'), ...args], { encoding: 'utf8' });
    const unknown = run('--engine', 'solr');
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr, 'elasticsearch: --engine: one of elasticsearch, opensearch\n');
    const cluster = run('--engine', 'opensearch', '--nodes', '3');
    assert.equal(cluster.status, 1);
    assert.match(cluster.stderr, /^elasticsearch: --nodes: a secured cluster is Elasticsearch only/);
  });

  it('npm run elasticsearch says why a node did not start, without a stack trace, and exits 1', { skip: !isRoot && 'needs root: only then does the node run as a user of its own' }, async () => {
    const closed = await mkdtemp(join(tmpdir(), 'pal-closed-'));
    dirs.push(closed);
    const run = spawnSync(process.execPath, [join(import.meta.dirname, '../../ops/elasticsearch/main.ts'), '--data', join(closed, 'data')], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^elasticsearch: .*which cannot reach its data directory/m);
    assert.doesNotMatch(run.stderr, /\n\s+at [\w.$<>]+ \(/, 'no stack trace');
  });

  it('does not take the JVM arguments line, which names OutOfMemoryError options, for running out of memory', () => {
    const jvmArguments = '[INFO ][o.e.b.Elasticsearch] [local] JVM arguments [-XX:+HeapDumpOnOutOfMemoryError, -XX:+ExitOnOutOfMemoryError, -Xms1g, -Xmx1g]';
    assert.equal(explainStartFailure(jvmArguments, 'no answer on 127.0.0.1:9200 within 120 s', 'elasticsearch'), "no answer on 127.0.0.1:9200 within 120 s. The node's log below says why.");
    assert.match(explainStartFailure(`${jvmArguments}\njava.lang.OutOfMemoryError: Java heap space`, 'exited with code 3', 'elasticsearch'), /ran out of memory/);
  });
});
