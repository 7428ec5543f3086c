// The `_id` of a line's document. It is derived from where the line came from, never from its
// content or a counter, so sending the same line twice (after a crash, after a retry, after a
// restart from an older checkpoint) addresses the same document and `create` answers 409.
//
//   _id = first 22 characters of base64url(sha256(proxy id NUL file identity NUL byte offset))
//
// - proxy id: the record's `proxy` (observer.name), so two hosts whose files share device and
//   inode numbers never collide;
// - file identity: device and inode of the log file, plus the file's generation (bumped each time
//   the file is seen truncated, or its inode is found reused by a file of another name, so offsets
//   written anew get new ids);
// - byte offset: where the line starts in that file.
// 22 base64url characters keep 132 bits of SHA-256: an accidental collision is negligible at any
// realistic volume.

import { hash } from 'node:crypto';

const ID_LENGTH = 22;

export function documentId(proxyId: string, fileIdentity: string, offset: number): string {
  return hash('sha256', `${proxyId}\0${fileIdentity}\0${offset}`, 'base64url').slice(0, ID_LENGTH);
}
