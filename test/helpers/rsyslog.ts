// Debian's rsyslogd as a real syslog receiver: run in the foreground as the current user with a
// generated configuration that listens on 127.0.0.1 (plain TCP, or TLS with gtls) and writes each
// message it parsed, as one JSON object a line, to a file in the test's folder. `.ci/run` installs
// rsyslog and rsyslog-gnutls.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, portInUse } from '../../ops/free-port.ts';
import { waitFor } from './wait.ts';

/** What rsyslog parsed out of one message. */
export interface ReceivedMessage {
  hostname: string;
  app_name: string;
  msgid: string;
  structured_data: string;
  msg: string;
  facility: string;
  severity: string;
}

export interface RsyslogTls {
  ca: string;
  certificate: string;
  key: string;
}

export interface Rsyslog {
  port: number;
  /** Every message written so far. */
  received(): Promise<ReceivedMessage[]>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, appending to the same file. */
  start(): Promise<void>;
  /** Its stderr so far, for failure messages. */
  stderr(): string;
}

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((path) => existsSync(path)) ?? 'rsyslogd';
const FIELDS = ['hostname', 'app-name', 'msgid', 'structured-data', 'msg', 'syslogfacility', 'syslogseverity'];
const OUTNAMES = ['hostname', 'app_name', 'msgid', 'structured_data', 'msg', 'facility', 'severity'];

function configuration(dir: string, port: number, tls: boolean): string {
  const files = (name: string) => join(dir, name);
  const global = tls
    ? `global(workDirectory="${files('work')}" defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${files('ca.pem')}" defaultNetstreamDriverCertFile="${files('cert.pem')}" defaultNetstreamDriverKeyFile="${files('key.pem')}")`
    : `global(workDirectory="${files('work')}")`;
  const module = tls ? 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")' : 'module(load="imtcp")';
  const properties = FIELDS.map((name, i) => `  property(outname="${OUTNAMES[i]}" name="${name}" format="jsonf")`).join('\n');
  return `${global}
${module}
input(type="imtcp" port="${port}" address="127.0.0.1")
template(name="received" type="list" option.jsonf="on") {
${properties}
}
if $inputname == "imtcp" then action(type="omfile" file="${files('received.ndjson')}" template="received")
`;
}

/** Starts rsyslogd on a free port; `dir` holds its configuration, work directory and output. */
export async function startRsyslog(dir: string, tls?: RsyslogTls): Promise<Rsyslog> {
  await mkdir(join(dir, 'work'), { recursive: true });
  if (tls) {
    await writeFile(join(dir, 'ca.pem'), tls.ca);
    await writeFile(join(dir, 'cert.pem'), tls.certificate);
    await writeFile(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  }
  const port = await freePort();
  const configFile = join(dir, 'rsyslog.conf');
  await writeFile(configFile, configuration(dir, port, tls !== undefined));
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let stderr = '';
  const start = async () => {
    const daemon = spawn(RSYSLOGD, ['-n', '-f', configFile, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = daemon;
    daemon.stdout!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    daemon.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    exited = new Promise((resolve) => daemon.once('exit', resolve));
    const failed = new Promise<never>((_, reject) => {
      daemon.once('error', reject);
      void exited.then((code) => reject(new Error(`rsyslogd exited (${String(code)}) before listening: ${stderr}`)));
    });
    failed.catch(() => {});
    await Promise.race([waitFor(`rsyslogd listening on 127.0.0.1:${port}`, () => portInUse(port), { timeoutMs: 15_000, intervalMs: 50 }), failed]);
  };
  await start();
  return {
    port,
    async received() {
      const text = await readFile(join(dir, 'received.ndjson'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as ReceivedMessage);
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    start,
    stderr: () => stderr,
  };
}
