// Replacing a small state file so that a crash leaves either the old or the new content, never a
// torn one: written to a temporary file beside it, fsynced, renamed over the old one, and the
// folder fsynced so the rename itself is durable.

import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `mode` applies when the file is created (e.g. 0o600 for state only this user may read). */
export async function replaceFile(path: string, text: string, mode = 0o666): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.tmp`);
  const file = await open(temporary, 'w', mode);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
