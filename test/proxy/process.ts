// Runs the real proxy process (`node proxy/main.ts --config <file>`) for suites that need its
// signals, exit code and stderr.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ProxyProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
}

const MAIN = new URL('../../proxy/main.ts', import.meta.url).pathname;

export function runProxyMain(configFile: string): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [MAIN, '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, done };
}

/** `config` without `workers` runs one process, as the suites that read `access_log.dir` directly expect. */
export async function spawnProxy(dir: string, config: Record<string, unknown>): Promise<ProxyProcess> {
  const file = join(dir, 'proxy.config.json');
  await writeFile(file, JSON.stringify({ workers: 1, ...config }));
  const { child, done } = runProxyMain(file);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const onData = () => {
      const match = /"port":(\d+).*"msg":"proxy listening"/.exec(stderr);
      if (match) {
        child.stderr!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stderr!.on('data', onData);
    void done.then(({ code }) => reject(new Error(`proxy exited (${code}) before listening: ${stderr}`)));
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    terminate: async () => {
      child.kill('SIGTERM');
      return (await done).code;
    },
  };
}
