// The tailer on real files, in process: partial lines, rotation order, truncation, deletion.

import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { appendFile, copyFile, mkdir, mkdtemp, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { emptyCheckpoint, type StoredCheckpoint } from '../../shipper/checkpoint.ts';
import { deviceInodeOf, FINGERPRINT_BYTES, fingerprintOf, identifyFile } from '../../shipper/file-identity.ts';
import type { Line, LossReport } from '../../shipper/tailed-file.ts';
import { Tailer } from '../../shipper/tailer.ts';
import { accessLogName } from '../helpers/records.ts';

async function drain(tailer: Tailer): Promise<Line[]> {
  const lines: Line[] = [];
  for (;;) {
    const line = tailer.takeLine();
    if (line) {
      lines.push({ ...line, bytes: Buffer.from(line.bytes) });
      continue;
    }
    if (!(await tailer.refill())) return lines;
  }
}

const text = (lines: Line[]) => lines.map((line) => line.bytes.toString());
const identityOf = async (file: string) => (await identifyFile(file))!.identity;
const ackAll = (tailer: Tailer, lines: Line[]) => lines.forEach((line) => tailer.acknowledge(line.file, line.generation, line.end));

describe('tailer', () => {
  let dir: string;
  let losses: LossReport[];
  const path = (n: number) => join(dir, accessLogName(n));
  const tailer = (checkpoint: StoredCheckpoint = emptyCheckpoint(), partialGraceMs = 50) =>
    new Tailer(dir, checkpoint, { partialGraceMs, onLoss: (loss) => losses.push(loss) });
  /** File n holds `aaa` and `bbb`; a first run read both and acknowledged `aaa`. */
  const firstLineAcknowledged = async (n: number) => {
    await writeFile(path(n), 'aaa\nbbb\n');
    const first = tailer();
    const lines = await drain(first);
    ackAll(first, lines.slice(0, 1));
    await first.close();
    return { lines, checkpoint: first.checkpoint() };
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tailer-'));
    losses = [];
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('reads files in number order, not name order, and ignores other files', async () => {
    await writeFile(path(10), 'ten\n');
    await writeFile(path(9), 'nine\n');
    await writeFile(join(dir, 'current.log'), 'symlink-like\n');
    await writeFile(join(dir, 'access.log'), 'no number\n');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), ['nine', 'ten']);
    await t.close();
  });

  it('waits for the newline of a partial last line in the live file', async () => {
    await writeFile(path(1), 'one\ntw');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), ['one']);
    await appendFile(path(1), 'o\n');
    const [two] = await drain(t);
    assert.equal(two!.bytes.toString(), 'two');
    assert.equal(two!.offset, 4);
    assert.equal(two!.end, 8);
    await t.close();
  });

  it('gives up a fragment left at the end of a rotated-away file after a grace period', async () => {
    await writeFile(path(1), 'one\nfragm');
    await writeFile(path(2), 'two\n');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), ['one', 'two']);
    await new Promise((r) => setTimeout(r, 80));
    const [fragment] = await drain(t);
    assert.equal(fragment!.problem, 'incomplete');
    assert.equal(fragment!.bytes.toString(), 'fragm');
    await t.close();
  });

  it('resumes from the checkpoint; a truncation keeping the first line is a new generation, one that does not is a new file', async () => {
    const { lines, checkpoint } = await firstLineAcknowledged(1);
    const second = tailer(checkpoint);
    const rest = await drain(second);
    assert.deepEqual(text(rest), ['bbb'], 'only what was not acknowledged');
    ackAll(second, rest);
    const whole = second.checkpoint();
    await second.close();

    await truncate(path(1), 4); // the same first line, shorter than what was read
    const third = tailer(whole);
    const [again] = await drain(third);
    assert.equal(again!.bytes.toString(), 'aaa');
    assert.equal(again!.file.identity, lines[0]!.file.identity);
    assert.equal(again!.generation, 1, 'same identity and offsets, new generation: new document ids');
    assert.equal(third.checkpointDirty, true);
    await third.close();

    await truncate(path(1), 0);
    await appendFile(path(1), 'c\n');
    const fourth = tailer(checkpoint);
    const [line] = await drain(fourth);
    assert.equal(line!.bytes.toString(), 'c');
    assert.notEqual(line!.file.identity, lines[0]!.file.identity, 'another first line: another file');
    assert.equal(line!.generation, 0);
    assert.deepEqual(losses, [{ name: accessLogName(1), identity: lines[0]!.file.identity, bytes: 4, cause: 'deleted' }]);
    await fourth.close();
  });

  it('reports bytes of a file deleted while stopped before it was read completely', async () => {
    await writeFile(path(1), 'aaa\nbbb\n');
    await writeFile(path(2), 'ccc\n');
    const identity = await identityOf(path(1));
    const checkpoint = { version: 2 as const, files: { [identity]: { name: accessLogName(1), generation: 0, offset: 4, size: 8 } } };
    await unlink(path(1));
    const t = tailer(checkpoint);
    assert.deepEqual(text(await drain(t)), ['ccc']);
    assert.deepEqual(losses, [{ name: accessLogName(1), identity, bytes: 4, cause: 'deleted' }]);
    await t.close();
  });

  it('knows a file by its content: renamed or copied to another directory, it resumes at its offset', async () => {
    const { lines, checkpoint } = await firstLineAcknowledged(3);
    await rename(path(3), path(4));
    const renamed = tailer(checkpoint);
    const [bbb] = await drain(renamed);
    assert.equal(bbb!.bytes.toString(), 'bbb');
    assert.deepEqual([bbb!.file.identity, bbb!.generation, bbb!.offset], [lines[1]!.file.identity, 0, 4], 'the same origin and offset: the same document id');
    await renamed.close();

    const copy = await mkdtemp(join(tmpdir(), 'tailer-copy-'));
    try {
      await copyFile(path(4), join(copy, accessLogName(4)));
      const copied = new Tailer(copy, checkpoint, { onLoss: (loss) => losses.push(loss) });
      const [again] = await drain(copied);
      assert.notEqual(again!.file.hint, bbb!.file.hint, 'another inode');
      assert.deepEqual([again!.bytes.toString(), again!.file.identity, again!.offset], ['bbb', bbb!.file.identity, 4]);
      await copied.close();
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
    assert.deepEqual(losses, []);
  });

  it('takes other content in a file of another name for a new file, whatever its inode', async () => {
    await writeFile(path(7), 'new\n');
    const gone = fingerprintOf(Buffer.from('old\n'), false)!;
    const checkpoint = { version: 2 as const, files: { [gone]: { name: accessLogName(3), generation: 0, offset: 4, size: 9 } } };
    const t = tailer(checkpoint);
    const [line] = await drain(t);
    assert.equal(line!.bytes.toString(), 'new', 'read from its start');
    assert.equal(line!.generation, 0);
    assert.deepEqual(losses, [{ name: accessLogName(3), identity: gone, bytes: 5, cause: 'deleted' }]);
    await t.close();
  });

  it('drops a file rewritten from the start under its name while running: the new content is a new file', async () => {
    await writeFile(path(1), 'aaa\nbbb\n');
    const t = tailer();
    const [aaa] = await drain(t);
    await writeFile(path(1), 'zz\n'); // same inode, shorter, another first line
    const [zz] = await drain(t);
    assert.equal(zz!.bytes.toString(), 'zz');
    assert.equal(zz!.offset, 0);
    assert.notEqual(zz!.file.identity, aaa!.file.identity);
    assert.deepEqual(Object.keys(t.checkpoint().files), [zz!.file.identity], 'the old identity is gone from the checkpoint');
    await t.close();
  });

  it('gives a file no identity before its first line ends, and keeps the one it gets as it grows', async () => {
    await writeFile(path(1), 'par');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), []);
    assert.deepEqual(t.checkpoint().files, {}, 'not identifiable yet');
    await appendFile(path(1), 'tial\nmore\n');
    assert.deepEqual(text(await drain(t)), ['partial', 'more']);
    const identity = fingerprintOf(Buffer.from('partial\nmore\n'), false)!;
    assert.deepEqual(Object.keys(t.checkpoint().files), [identity]);
    await appendFile(path(1), 'x'.repeat(2 * FINGERPRINT_BYTES) + '\n');
    await drain(t);
    await t.close();
    assert.equal(await identityOf(path(1)), identity, 'the same identity once the file is longer than FINGERPRINT_BYTES');
  });

  it('identifies a file whose first line is longer than FINGERPRINT_BYTES by its first FINGERPRINT_BYTES', async () => {
    const head = Buffer.from('y'.repeat(FINGERPRINT_BYTES + 100));
    await writeFile(path(1), head);
    const t = tailer();
    assert.deepEqual(text(await drain(t)), [], 'the line is not complete');
    assert.deepEqual(Object.keys(t.checkpoint().files), [hash('sha256', head.subarray(0, FINGERPRINT_BYTES), 'hex')]);
    await t.close();
  });

  it('gives up a fragment that is all of a rotated-away file, though it has no complete line', async () => {
    await writeFile(path(1), 'fragm');
    await writeFile(path(2), 'two\n');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), ['two']);
    await new Promise((r) => setTimeout(r, 80));
    const [fragment] = await drain(t);
    assert.deepEqual([fragment!.problem, fragment!.bytes.toString()], ['incomplete', 'fragm']);
    await t.close();
  });

  it('migrates a checkpoint keyed by device and inode (version 1): offsets carried over to fingerprints', async () => {
    await writeFile(path(1), 'aaa\nbbb\n');
    await writeFile(path(2), 'ccc\n');
    const hint = async (n: number) => deviceInodeOf(await stat(path(n), { bigint: true }));
    const legacy = {
      version: 1 as const,
      files: {
        [await hint(1)]: { name: accessLogName(1), generation: 0, offset: 4, size: 8 },
        // The inode of file 2 under another name: a file that was deleted and whose inode was reused.
        [await hint(2)]: { name: accessLogName(9), generation: 0, offset: 4, size: 4 },
        '1:999999999': { name: accessLogName(0), generation: 0, offset: 2, size: 10 },
      },
    };
    const t = tailer(legacy);
    assert.equal(t.checkpointDirty, true, 'the migrated checkpoint is written even without new lines');
    assert.deepEqual(text(await drain(t)), ['bbb', 'ccc'], 'file 1 from its offset, file 2 from 0');
    assert.deepEqual(losses, [{ name: accessLogName(0), identity: '1:999999999', bytes: 8, cause: 'deleted' }]);
    assert.deepEqual(t.checkpoint(), {
      version: 2,
      files: {
        [await identityOf(path(1))]: { name: accessLogName(1), generation: 0, offset: 4, size: 8 },
        [await identityOf(path(2))]: { name: accessLogName(2), generation: 0, offset: 0, size: 4 },
      },
    });
    await t.close();
  });

  it('still reads a file deleted while running, through its open handle', async () => {
    await writeFile(path(1), 'one\n');
    const t = tailer();
    assert.deepEqual(text(await drain(t)), ['one']);
    await writeFile(path(2), 'two\n');
    await appendFile(path(1), 'late\n');
    await unlink(path(1)); // before the tailer saw the late line: only its open handle still reaches it
    const rest = text(await drain(t));
    assert.deepEqual(rest.sort(), ['late', 'two']);
    assert.deepEqual(losses, []);
    await t.close();
  });

  it('hands out an over-long line as one problem line and carries on', async () => {
    await writeFile(path(1), Buffer.concat([Buffer.from('x'.repeat(3 * 1024 * 1024)), Buffer.from('\nafter\n')]));
    const t = tailer();
    const lines = await drain(t);
    assert.equal(lines[0]!.problem, 'too-long');
    assert.equal(lines[0]!.end, 3 * 1024 * 1024 + 1);
    assert.equal(lines[1]!.bytes.toString(), 'after');
    await t.close();
  });

  it('reads every worker folder, each in its own order with its own live file; a busy worker does not hold up the others', async () => {
    for (const folder of ['worker-1', 'worker-2']) await mkdir(join(dir, folder));
    const line = 'x'.repeat(1023);
    // Worker 1's live file holds three read buffers of lines; worker 2 has an older file ending in
    // a fragment, and a live one (a lower number than worker 1's) whose last line is being written.
    await writeFile(join(dir, 'worker-1', accessLogName(7)), `${line}\n`.repeat(3 * 1024));
    await writeFile(join(dir, 'worker-2', accessLogName(2)), 'two-a\nfragm');
    await writeFile(join(dir, 'worker-2', accessLogName(3)), 'three-a\nthree-');
    const t = tailer(emptyCheckpoint(), 0);
    const lines = await drain(t);
    const complete = text(lines.filter((read) => read.problem === undefined));
    assert.equal(complete.filter((text) => text === line).length, 3 * 1024);
    assert.deepEqual(complete.filter((text) => text !== line), ['two-a', 'three-a']);
    assert.ok(complete.indexOf('two-a') <= 1024, "worker 2's lines come after one read of worker 1's, not after all of them");
    // Only the older file's fragment is given up: worker 2's live file is live, whatever worker 1's numbers.
    const givenUp: string[] = [];
    for (let pass = 0; pass < 3; pass++) givenUp.push(...text((await drain(t)).filter((read) => read.problem === 'incomplete')));
    assert.deepEqual([...text(lines.filter((read) => read.problem === 'incomplete')), ...givenUp], ['fragm']);
    await appendFile(join(dir, 'worker-2', accessLogName(3)), 'b\n');
    assert.deepEqual(text(await drain(t)), ['three-b']);
    await t.close();
  });
});
