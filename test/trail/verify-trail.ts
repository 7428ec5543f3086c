// The trail's command lines as an operator and an auditor run them: `npm run trail-key` and
// `npm run verify-trail`, each in its own process.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { childEnv } from '../helpers/elasticsearch.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

export interface KeyPair {
  privateFile: string;
  publicFile: string;
}

export async function makeKeyPair(dir: string, name = 'trail'): Promise<KeyPair> {
  const pair = { privateFile: join(dir, `${name}.key`), publicFile: join(dir, `${name}.pub`) };
  await run(process.execPath, [join(ROOT, 'proxy/trail-key.ts'), '--private', pair.privateFile, '--public', pair.publicFile], { env: childEnv() });
  return pair;
}

export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** verify-trail with `args`; Elasticsearch is checked only when `connection` is given. */
export async function verifyTrail(args: string[], connection?: ElasticsearchConnection): Promise<VerifyRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'ops/trail/main.ts'), ...args], { env: childEnv(connection), timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
