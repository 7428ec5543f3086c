// The `_id` of a line's document. It is derived from where the line came from, never from its
// content or a counter, so sending the same line twice (after a crash, after a retry, after a
// restart from an older checkpoint, from a copy of the log directory on another machine or file
// system) addresses the same document and `create` answers 409.
//
//   _id = first 22 characters of base64url(sha256(proxy id NUL file origin NUL byte offset))
//   file origin = file identity "/" generation
//
// - proxy id: the record's `proxy` (observer.name), so the ids of two proxies never meet;
// - file identity: the fingerprint of the log file's first line (file-identity.ts): it travels
//   with the file's content, unlike device and inode numbers;
// - generation: bumped each time the file is found shorter than what was read while its first
//   line is unchanged (truncated and written again), so offsets written anew get new ids;
// - byte offset: where the line starts in that file.
// 22 base64url characters keep 132 bits of SHA-256: an accidental collision is negligible at any
// realistic volume.

import { hash } from 'node:crypto';

const ID_LENGTH = 22;

/** Where a line's offset counts from: also what dead letters name the file by. */
export function fileOrigin(identity: string, generation: number): string {
  return `${identity}/${generation}`;
}

export function documentId(proxyId: string, origin: string, offset: number): string {
  return hash('sha256', `${proxyId}\0${origin}\0${offset}`, 'base64url').slice(0, ID_LENGTH);
}
