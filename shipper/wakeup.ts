// Wakes the idle reader when the log directory or one of its worker folders changes: fs.watch where it works, and a poll
// interval regardless, because watch events are lost on some file systems (NFS, bind mounts).

import { watch, type FSWatcher } from 'node:fs';

const UNWATCHABLE = new Set(['ENOENT', 'ENOSPC', 'EMFILE']);

export class Wakeup {
  readonly #directory: string;
  #watcher: FSWatcher | undefined;
  #signalled = false;
  #resolve: (() => void) | undefined;

  constructor(directory: string) {
    this.#directory = directory;
  }

  signal(): void {
    this.#signalled = true;
    this.#resolve?.();
  }

  /** Resolves on the next change or after `ms`, whichever is first. */
  async wait(ms: number): Promise<void> {
    this.#ensureWatching();
    if (this.#signalled) {
      this.#signalled = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#resolve = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#resolve = undefined;
    this.#signalled = false;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.signal();
  }

  #ensureWatching(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.#directory, { persistent: false, recursive: true }, () => this.signal());
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined; // the poll carries on; watching is tried again on the next wait
      });
    } catch (error) {
      // The directory not there yet, or the system out of watches: polling carries on until then.
      if (!UNWATCHABLE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
}
