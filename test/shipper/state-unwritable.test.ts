// The shipper's own disk: when its state directory refuses a write (here a tmpfs remounted
// read-only under it), the shipper stops with STATE_UNWRITABLE_EXIT_CODE and a message naming the
// file and the cause, instead of carrying on with progress it cannot save.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHECKPOINT_FILE, STATE_UNWRITABLE_EXIT_CODE } from '../../shipper/checkpoint.ts';
import { mountTmpfs, remountReadOnly, unmount } from '../helpers/mount.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { appendRecords } from '../helpers/records.ts';
import { startShipper } from './shipper-process.ts';

describe('shipper with an unwritable state directory', () => {
  let es: TestElasticsearch;
  let dir: string;
  let mounted: string | undefined;
  before(async () => {
    es = testElasticsearch('state-ro');
    dir = await mkdtemp(join(tmpdir(), 'shipper-state-ro-'));
  });
  after(async () => {
    if (mounted) unmount(mounted);
    await es.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('stops with its own exit code and a message naming the checkpoint and the cause', async (t) => {
    const logs = join(dir, 'logs');
    const state = join(dir, 'state');
    await mkdir(logs);
    await mkdir(state);
    const refused = mountTmpfs(state, '1m') ?? remountReadOnly(state);
    if (refused) {
      t.skip(`cannot mount a read-only tmpfs at ${state} (${refused}): the test needs root or CAP_SYS_ADMIN`);
      return;
    }
    mounted = state;
    appendRecords(logs, 1, 0, 50);
    const shipper = startShipper({ logs, state, connection: es.connection, prefix: es.prefix });
    const deadline = setTimeout(() => shipper.child.kill('SIGKILL'), 60_000);
    const code = await shipper.exited;
    clearTimeout(deadline);
    assert.equal(code, STATE_UNWRITABLE_EXIT_CODE, shipper.stderr());
    const fatal = shipper.stderr().split('\n').filter((line) => line.includes('"level":60')).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.code, 'SHIPPER_STATE_UNWRITABLE');
    assert.equal(fatal[0]!.path, join(state, CHECKPOINT_FILE));
    assert.equal(fatal[0]!.cause, 'read-only file system (EROFS)');
    assert.match(String(fatal[0]!.msg), /^shipper stopped: cannot write the checkpoint .*checkpoint\.json: read-only file system \(EROFS\)/);
    assert.ok(!shipper.stderr().includes('"stack"'), 'no stack for an expected condition');
    assert.deepEqual(await readdir(state), [], 'nothing written');
  });
});
