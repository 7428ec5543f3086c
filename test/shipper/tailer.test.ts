// The tailer on real files, in process: partial lines, rotation order, truncation, deletion.

import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { emptyCheckpoint, loadCheckpoint, saveCheckpoint } from '../../shipper/checkpoint.ts';
import { identityOf } from '../../shipper/log-files.ts';
import { Tailer, type LossReport, type Line } from '../../shipper/tailer.ts';
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
const ackAll = (tailer: Tailer, lines: Line[]) => lines.forEach((line) => tailer.acknowledge(line.file, line.generation, line.end));

describe('tailer', () => {
  let dir: string;
  let losses: LossReport[];
  const path = (n: number) => join(dir, accessLogName(n));
  const tailer = (checkpoint = emptyCheckpoint(), partialGraceMs = 50) =>
    new Tailer(dir, checkpoint, { partialGraceMs, onLoss: (loss) => losses.push(loss) });
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

  it('resumes from the checkpoint and starts a new generation after truncation', async () => {
    await writeFile(path(1), 'aaa\nbbb\n');
    const first = tailer();
    const lines = await drain(first);
    ackAll(first, lines.slice(0, 1));
    const checkpoint = first.checkpoint();
    await first.close();
    const second = tailer(checkpoint);
    assert.deepEqual(text(await drain(second)), ['bbb'], 'only what was not acknowledged');
    await second.close();

    await truncate(path(1), 0);
    await appendFile(path(1), 'c\n');
    const third = tailer(checkpoint);
    const [line] = await drain(third);
    assert.equal(line!.bytes.toString(), 'c');
    assert.equal(line!.generation, 1, 'same offsets, new generation: new document ids');
    assert.equal(third.checkpointDirty, true);
    await third.close();
  });

  it('reports bytes of a file deleted while stopped before it was read completely', async () => {
    await writeFile(path(1), 'aaa\nbbb\n');
    await writeFile(path(2), 'ccc\n');
    const identity = identityOf(await stat(path(1), { bigint: true }));
    const checkpoint = { version: 1 as const, files: { [identity]: { name: accessLogName(1), generation: 0, offset: 4, size: 8 } } };
    await unlink(path(1));
    const t = tailer(checkpoint);
    assert.deepEqual(text(await drain(t)), ['ccc']);
    assert.deepEqual(losses, [{ name: accessLogName(1), identity, bytes: 4, cause: 'deleted' }]);
    await t.close();
  });

  it('takes an inode found under another name for a new file that reuses it', async () => {
    await writeFile(path(7), 'new\n');
    const identity = identityOf(await stat(path(7), { bigint: true }));
    const checkpoint = { version: 1 as const, files: { [identity]: { name: accessLogName(3), generation: 0, offset: 4, size: 9 } } };
    const t = tailer(checkpoint);
    const [line] = await drain(t);
    assert.equal(line!.bytes.toString(), 'new', 'read from its start');
    assert.equal(line!.generation, 1, 'with ids of its own');
    assert.deepEqual(losses, [{ name: accessLogName(3), identity, bytes: 5, cause: 'deleted' }]);
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

  it('checkpoints atomically and reads them back', async () => {
    const file = join(dir, 'checkpoint.json');
    const checkpoint = { version: 1 as const, files: { '1:2:3': { name: 'access.1.log', generation: 0, offset: 10, size: 20 } } };
    await saveCheckpoint(file, checkpoint);
    assert.deepEqual(await loadCheckpoint(file), checkpoint);
    await writeFile(file, '{"version":1,"files":{"x":{"offset":-1}}}');
    await assert.rejects(loadCheckpoint(file), { code: 'SHIPPER_CHECKPOINT_INVALID' });
  });
});
