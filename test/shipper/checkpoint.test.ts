// The checkpoint file is replaced atomically: a process killed at any moment of a save leaves the
// previous checkpoint or the new one, whole, and a reader at any moment sees one or the other.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type StoredCheckpoint } from '../../shipper/checkpoint.ts';
import { checkpointNumbered, ENTRIES } from './checkpoint-writer.ts';

const KILLS = 3;
const ROUND_DEADLINE_MS = 20_000;

/** The one sequence number all entries of a checkpoint hold; fails on a mixed or short one. */
function sequenceOf(checkpoint: StoredCheckpoint): number {
  const offsets = new Set(Object.values(checkpoint.files).map((entry) => entry.offset));
  assert.equal(Object.keys(checkpoint.files).length, ENTRIES, 'every entry of one save');
  assert.equal(offsets.size, 1, 'entries of one save only');
  return [...offsets][0]!;
}

describe('checkpoint file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads back what was saved and refuses a malformed one by its code', async () => {
    const file = join(dir, 'round-trip.json');
    const checkpoint = checkpointNumbered(7);
    await saveCheckpoint(file, checkpoint);
    assert.deepEqual(await loadCheckpoint(file), checkpoint);
    await writeFile(file, '{"version":2,"files":{"x":{"offset":-1}}}');
    await assert.rejects(loadCheckpoint(file), { code: 'SHIPPER_CHECKPOINT_INVALID' });
  });

  it('is never seen torn, by a reader during saves or after a kill in the middle of one', async (t) => {
    const file = join(dir, CHECKPOINT_FILE);
    let saved = 0;
    let reads = 0;
    await saveCheckpoint(file, checkpointNumbered(saved));
    for (let kill = 0; kill < KILLS; kill++) {
      const writer = spawn(process.execPath, ['test/shipper/checkpoint-writer.ts', file, String(saved + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => writer.once('exit', resolve));
      writer.stdout.setEncoding('utf8').on('data', (text: string) => (saved = Number(text.trim().split('\n').at(-1))));
      const roundStart = saved;
      // Kill it at a random moment once it has saved a few times, reading the file meanwhile.
      const killAfter = 3 + Math.floor(Math.random() * 3);
      const deadline = Date.now() + ROUND_DEADLINE_MS;
      let seen = roundStart;
      try {
        while (saved < roundStart + killAfter) {
          assert.ok(Date.now() < deadline, `the writer saved ${saved - roundStart} checkpoints in ${ROUND_DEADLINE_MS} ms`);
          const sequence = sequenceOf(await loadCheckpoint(file));
          assert.ok(sequence >= seen, 'never an older checkpoint than one already read');
          seen = sequence;
          reads++;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 40));
      } finally {
        writer.kill('SIGKILL');
        await exited;
      }
      const left = sequenceOf(await loadCheckpoint(file));
      // The last save reported, or the one after it if the writer died between rename and print.
      assert.ok(left === saved || left === saved + 1, `found checkpoint ${left} after checkpoint ${saved} was reported saved`);
      saved = left;
    }
    t.diagnostic(`${KILLS} kills, ${saved} saves, ${reads} reads during saves`);
  });
});
