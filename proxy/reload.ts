// Live reload: on SIGHUP, or when the configuration file changes with `watch_config`, the file is
// read and validated again. A valid configuration is applied to new requests (RunningProxy.reload)
// and one diagnostics line says what changed; an invalid one is refused with the same key-path
// errors as at start, and the running configuration keeps serving.

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../common/errors.ts';
import { loadConfig } from './config.ts';
import type { RunningProxy } from './server.ts';

/** Editors write a file in several steps (truncate, write, rename): changes this close together are one reload. */
const WATCH_SETTLE_MS = 200;

export type ReloadTrigger = 'SIGHUP' | 'file change';

export class ConfigReloader {
  readonly #file: string;
  readonly #proxy: RunningProxy;
  readonly #diagnostics: Logger;
  #watcher: FSWatcher | undefined;
  #settle: NodeJS.Timeout | undefined;

  constructor(file: string, proxy: RunningProxy, diagnostics: Logger, watchFile: boolean) {
    this.#file = file;
    this.#proxy = proxy;
    this.#diagnostics = diagnostics;
    this.#setWatch(watchFile);
  }

  /** Reads the file again and applies it; true when it was applied. */
  reload(trigger: ReloadTrigger): boolean {
    let config;
    try {
      config = loadConfig(this.#file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#diagnostics.error({ trigger, code: error.code, problems: error.message }, 'configuration reload refused: the running configuration stays');
      return false;
    }
    let summary;
    try {
      summary = this.#proxy.reload(config);
    } catch (error) {
      // Nothing was swapped: the new services are built before they replace the running ones.
      this.#diagnostics.error({ trigger, err: error }, 'configuration reload failed: the running configuration stays');
      return false;
    }
    this.#diagnostics.info({ trigger, ...summary }, 'configuration reloaded');
    this.#setWatch(config.watch_config);
    return true;
  }

  close(): void {
    this.#setWatch(false);
  }

  #setWatch(on: boolean): void {
    if (!on) {
      this.#watcher?.close();
      this.#watcher = undefined;
      clearTimeout(this.#settle);
      return;
    }
    if (this.#watcher !== undefined) return;
    // The folder, not the file: an editor that saves by renaming a new file over it would leave a
    // watch on the file itself looking at the old one.
    const name = basename(this.#file);
    this.#watcher = watch(dirname(this.#file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#settle);
      this.#settle = setTimeout(() => this.reload('file change'), WATCH_SETTLE_MS);
    });
    this.#watcher.on('error', (error) => {
      this.#diagnostics.error({ err: error }, 'watching the configuration file failed; SIGHUP still reloads');
      this.#setWatch(false);
    });
  }
}
