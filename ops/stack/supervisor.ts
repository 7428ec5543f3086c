// Runs the stack's processes as children: output prefixed with each one's name, readiness by
// polling a URL, and a stop in reverse start order so producers flush before their consumers stop.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ProxyAccessLogError } from '../../common/errors.ts';

const COLOURS = [36, 33, 35, 32, 34, 31];
const STOP_GRACE_MS = 20_000;

export class ChildStartError extends ProxyAccessLogError {
  readonly code = 'STACK_CHILD_START_FAILED';
}

interface Supervised {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function prefixLines(stream: NodeJS.ReadableStream, label: string, out: NodeJS.WritableStream): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${label} ${line}\n`));
}

export class Supervisor {
  readonly #children: Supervised[] = [];
  #stopping = false;
  readonly #width: number;

  constructor(names: string[]) {
    this.#width = Math.max(...names.map((n) => n.length));
  }

  label(name: string): string {
    const colour = COLOURS[this.#children.length % COLOURS.length];
    const padded = name.padEnd(this.#width);
    return process.stdout.isTTY ? `\x1b[${colour}m${padded} |\x1b[0m` : `${padded} |`;
  }

  /** Starts `node <script> <args>` on this Node, and waits until `readyUrl` answers (any status). */
  async start(name: string, script: string, args: string[], readyUrl?: string): Promise<void> {
    const label = this.label(name);
    // Own process group: Ctrl-C reaches only the stack, which then stops the children in order.
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    prefixLines(child.stdout!, label, process.stdout);
    prefixLines(child.stderr!, label, process.stderr);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const entry = { name, child, exited };
    this.#children.push(entry);
    exited.then((code) => {
      if (!this.#stopping) process.stderr.write(`${label} exited unexpectedly (code ${code})\n`);
    });
    if (readyUrl) await this.#waitFor(entry, readyUrl);
  }

  async #waitFor(entry: Supervised, url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (entry.child.exitCode !== null) throw new ChildStartError(`${entry.name} exited with code ${entry.child.exitCode} while starting`);
      try {
        await fetch(url, { signal: AbortSignal.timeout(1_000), redirect: 'manual' });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new ChildStartError(`${entry.name} did not answer at ${url} within ${timeoutMs} ms`);
  }

  /** SIGTERM to each child, last started first, waiting for each to exit (SIGKILL after a grace period). */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const { child, exited } of [...this.#children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  }
}
