// Runs the stack's processes as children: each one's output kept whole in its own diagnostics
// file, only its warnings and errors shown in the terminal (one line each, prefixed with its
// name), readiness by polling a URL, and a stop in reverse start order so producers flush before
// their consumers stop.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProxyAccessLogError } from '../../common/errors.ts';
import { logTail } from '../elasticsearch/start-failure.ts';
import { terminalLine } from './terminal-line.ts';

const COLOURS = [36, 33, 35, 32, 34, 31];
const STOP_GRACE_MS = 20_000;

export class ChildStartError extends ProxyAccessLogError {
  readonly code = 'STACK_CHILD_START_FAILED';
}

interface Supervised {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  diagnostics: WriteStream;
  diagnosticsFile: string;
}

export class Supervisor {
  readonly #children: Supervised[] = [];
  readonly #diagnosticsDir: string;
  readonly #width: number;
  #stopping = false;

  /** `diagnosticsDir` receives `<name>.log` for each child: everything it printed. */
  constructor(names: string[], diagnosticsDir: string) {
    this.#width = Math.max(...names.map((n) => n.length), 'stack'.length);
    this.#diagnosticsDir = diagnosticsDir;
  }

  label(name: string): string {
    const colour = COLOURS[this.#children.length % COLOURS.length];
    const padded = name.padEnd(this.#width);
    return process.stdout.isTTY ? `\x1b[${colour}m${padded} |\x1b[0m` : `${padded} |`;
  }

  /** The file that holds everything `name` printed. */
  diagnosticsFile(name: string): string {
    return join(this.#diagnosticsDir, `${name}.log`);
  }

  /** Starts `node <nodeFlags> <script> <args>` on this Node, and waits until `readyUrl` answers (any status). */
  async start(name: string, script: string, args: string[], readyUrl?: string, nodeFlags: readonly string[] = []): Promise<void> {
    if (this.#stopping) throw new ChildStartError(`${name} not started: stopping`);
    const label = this.label(name);
    const started = Date.now();
    // Own process group: Ctrl-C reaches only the stack, which then stops the children in order.
    const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const diagnosticsFile = this.diagnosticsFile(name);
    const diagnostics = createWriteStream(diagnosticsFile, { flags: 'a' });
    for (const stream of [child.stdout!, child.stderr!]) {
      const fromStderr = stream === child.stderr;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        diagnostics.write(`${line}\n`);
        const shown = terminalLine(line, fromStderr);
        if (shown !== undefined) process.stderr.write(`${label} ${shown}\n`);
      });
    }
    // 'close', not 'exit': by then the last line of its output has reached the diagnostics file.
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const entry = { name, child, exited, diagnostics, diagnosticsFile };
    this.#children.push(entry);
    exited.then((code) => {
      if (!this.#stopping) process.stderr.write(`${label} exited unexpectedly (code ${code}); its output is in ${diagnosticsFile}\n`);
    });
    if (readyUrl) {
      await this.#waitFor(entry, readyUrl);
      process.stdout.write(`${label} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  }

  async #waitFor(entry: Supervised, url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (entry.child.exitCode !== null) {
        await entry.exited;
        await new Promise((r) => entry.diagnostics.end(r));
        throw new ChildStartError(`${entry.name} exited with code ${entry.child.exitCode} while starting; its last lines:\n${logTail(entry.diagnosticsFile)}`);
      }
      try {
        await fetch(url, { signal: AbortSignal.timeout(1_000), redirect: 'manual' });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new ChildStartError(`${entry.name} did not answer at ${url} within ${timeoutMs} ms; its output is in ${entry.diagnosticsFile}`);
  }

  /** SIGTERM to each child, last started first, waiting for each to exit (SIGKILL after a grace period). */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const { child, exited, diagnostics } of [...this.#children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      diagnostics.end();
    }
  }
}
