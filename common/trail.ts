// The tamper-evident trail: every line the proxy writes carries `seq` (its place in the proxy's
// chain) and `prev` (the hash of the line before it), and from time to time a checkpoint line whose
// signature covers the proxy, its own place and the hash before it. Changing, removing, adding or
// moving any line before a checkpoint breaks a link or the signature. The proxy writes the trail,
// the shipper carries it into Elasticsearch, `npm run verify-trail` checks it; this module is the
// single definition of its line format, hashes and signed bytes (ARCHITECTURE.md, "7. The trail").

import { createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** `prev` of the first line of a chain: the hash of nothing before it (32 zero bytes, base64url). */
export const GENESIS_PREVIOUS = 'A'.repeat(43);

/**
 * A new chain (no earlier line of this proxy to continue from: first start, log directory lost)
 * starts at the current time in microseconds, so a proxy's sequence numbers never repeat.
 */
export function genesisSequence(nowMs: number): number {
  return nowMs * 1_000;
}

/** SHA-256 of a line's exact bytes without its newline, base64url: what the next line's `prev` holds. */
export function lineHash(line: string | Buffer): string {
  return hash('sha256', line, 'base64url');
}

/** A checkpoint is written at least this often while lines are written, and at every rotation, start and stop. */
export const CHECKPOINT_INTERVAL_MS = 60_000;

export const checkpointLineSchema = z.strictObject({
  proxy: z.string().min(1),
  seq: z.number().int().nonnegative(),
  prev: z.string().length(43),
  checkpoint: z.strictObject({
    time: z.iso.datetime({ precision: 3 }),
    /** `keyId` of the public key that verifies the signature. */
    key: z.string().min(1),
    /** Ed25519 over `checkpointPayload`, base64url. */
    signature: z.string().min(1),
  }),
});

export type CheckpointLine = z.infer<typeof checkpointLineSchema>;

/** The bytes a checkpoint signs; versioned so a later format cannot be confused with this one. */
export function checkpointPayload(proxy: string, seq: number, prev: string, time: string, key: string): Buffer {
  return Buffer.from(`proxy-access-log checkpoint v1\n${proxy}\n${seq}\n${prev}\n${time}\n${key}`);
}

/** A short name of a public key (first 16 characters of the SHA-256 of its DER, base64url), carried in each checkpoint. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return hash('sha256', publicKey.export({ type: 'spki', format: 'der' }), 'base64url').slice(0, 16);
}

export function signCheckpoint(privateKey: KeyObject, payload: Buffer): string {
  return sign(null, payload, privateKey).toString('base64url');
}

export function checkpointSignatureValid(line: CheckpointLine, publicKey: KeyObject): boolean {
  const { proxy, seq, prev, checkpoint } = line;
  const payload = checkpointPayload(proxy, seq, prev, checkpoint.time, checkpoint.key);
  return verify(null, payload, publicKey, Buffer.from(checkpoint.signature, 'base64url'));
}
