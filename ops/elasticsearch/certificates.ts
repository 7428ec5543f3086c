// The TLS material of a local secured cluster: a CA made for this run and one certificate it signs
// for 127.0.0.1, which every node presents on HTTP and on the transport between nodes. Made with
// openssl, since the distribution's elasticsearch-certutil is a JVM start per call (slow on a busy
// machine) and node:crypto cannot issue X.509 certificates.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ElasticsearchStartError } from './start-failure.ts';

const run = promisify(execFile);
const DAYS_VALID = '30';

export interface ClusterCertificates {
  /** PEM of the CA clients trust (ELASTICSEARCH_CA_FILE). */
  ca: string;
  /** PEM certificate for IP 127.0.0.1 and localhost, signed by the CA. */
  certificate: string;
  /** Its PEM private key (unencrypted PKCS#8). */
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const { code, stderr = '' } = error as { code?: string; stderr?: string };
    const why = code === 'ENOENT' ? 'openssl is not installed (apt-get install openssl)' : stderr.trim();
    throw new ElasticsearchStartError(`could not make the cluster's TLS certificates: ${why}`);
  }
}

/** A fresh CA and node certificate; the CA's key is thrown away, so nothing else can be signed with it. */
export async function makeClusterCertificates(): Promise<ClusterCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'es-certs-'));
  try {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', DAYS_VALID, '-subj', '/CN=proxy-access-log local CA', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'node.key', '-out', 'node.csr'], dir);
    await writeFile(join(dir, 'node.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl(['x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', DAYS_VALID, '-extfile', 'node.ext', '-out', 'node.crt'], dir);
    const [ca, certificate, key] = await Promise.all(['ca.crt', 'node.crt', 'node.key'].map((name) => readFile(join(dir, name), 'utf8')));
    return { ca: ca!, certificate: certificate!, key: key! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
