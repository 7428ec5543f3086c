// The stack's SMTP sink as `npm start` runs it (a child process), fed by the proxy's own mailer:
// the sign-in link comes out on stderr as a plain line, which the stack's terminal shows as it is;
// and the proxy configuration `npm start` writes loads, with its several-method service.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { LinkMailer } from '../../proxy/auth/mailer.ts';
import { loadConfig } from '../../proxy/config.ts';
import { terminalLine } from '../../ops/stack/terminal-line.ts';
import { freePort, removeDir, tempDir } from '../proxy/helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = join(import.meta.dirname, '..', '..');

test('the SMTP sink prints each sign-in link on stderr, shown by the stack as it is', async () => {
  const port = await freePort();
  const sink = spawn(process.execPath, [join(ROOT, 'ops/stack/smtp-sink.ts'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: sink.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: sink.stderr! }).on('line', (line) => stderr.push(line));
  try {
    await waitFor('the sink to listen', () => stdout.some((line) => line.includes('SMTP sink on')), { timeoutMs: 30_000 });
    const url = `http://portal.localhost:8080/.proxy/link?token=${'T'.repeat(43)}`;
    await new LinkMailer({ host: '127.0.0.1', port, tls: 'none', from: 'proxy@demo.localhost', password: undefined }).send({ to: 'ann@example.com', service: 'portal', url, minutes: 10 });
    await waitFor('the link on stderr', () => stderr.length > 0, { timeoutMs: 10_000 });
    assert.deepEqual(stderr, [`sign-in link for ann@example.com: ${url}`]);
    assert.equal(terminalLine(stderr[0]!, true), stderr[0]);
  } finally {
    sink.kill('SIGTERM');
    await new Promise((resolve) => sink.once('close', resolve));
  }
  assert.equal(sink.exitCode, 0);
});

test('the proxy configuration npm start writes loads: portal offers password, link and SSO through the sink', async () => {
  const dir = await tempDir('stack-configs');
  process.env.STACK_DIR = dir;
  try {
    // Imported here: the stack folder is fixed when demo.ts loads.
    const { writeStackFiles } = await import('../../ops/stack/configs.ts');
    const { PORTS } = await import('../../ops/stack/demo.ts');
    const files = await writeStackFiles({ url: 'http://127.0.0.1:1', request_timeout_ms: 1_000 });
    const config = loadConfig(files.proxyConfig);
    const portal = config.services.find((service) => service.id === 'portal')!;
    assert.deepEqual(portal.auth.map((auth) => auth.method), ['password', 'link', 'sso']);
    assert.equal(config.smtp?.port, PORTS.smtp);
  } finally {
    delete process.env.STACK_DIR;
    await removeDir(dir);
  }
});
