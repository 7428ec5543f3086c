// A child process for the checkpoint suite: saves checkpoint after checkpoint to one path as fast as
// it can, each one large (so a write takes long enough to be caught half done) and consistent (every
// entry holds the same sequence number), and prints each sequence number once it is saved.
//   node test/shipper/checkpoint-writer.ts <path> <first sequence number>

import { saveCheckpoint, type Checkpoint } from '../../shipper/checkpoint.ts';

/** About 500 KB of JSON. */
export const ENTRIES = 5_000;

export function checkpointNumbered(sequence: number): Checkpoint {
  const files: Checkpoint['files'] = {};
  for (let i = 0; i < ENTRIES; i++) files[`file-${i}`] = { name: `access.${i}.log`, generation: 0, offset: sequence, size: sequence };
  return { version: 2, files };
}

if (import.meta.main) {
  const [path, first] = process.argv.slice(2);
  for (let sequence = Number(first); ; sequence++) {
    await saveCheckpoint(path!, checkpointNumbered(sequence));
    process.stdout.write(`${sequence}\n`);
  }
}
