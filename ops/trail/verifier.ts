// The chain check of verify-trail, the same for files and for Elasticsearch: the entries of each
// proxy, in sequence order, must link (each `prev` is the hash of the entry before), have no hole,
// no second entry at one sequence, and end in a checkpoint signed by a known key. Everything before
// a good checkpoint that links to it is as good as signed; what follows the last one is only chained.

import type { KeyObject } from 'node:crypto';
import { checkpointSignatureValid, GENESIS_PREVIOUS, type CheckpointLine } from '../../common/trail.ts';

/** One line of the trail, wherever it was read. */
export interface TrailEntry {
  proxy: string;
  seq: number;
  prev: string;
  /** The hash of the line as read: computed here, never taken from a stored field. */
  hash: string;
  /** Where it was read: `access.3.log line 17`, `proxy-events-2026.03.09/<_id>`. */
  where: string;
  checkpoint?: CheckpointLine;
  /** Lines a dropped-count line declares lost (proxy/line-writer.ts). */
  dropped?: number;
}

export const FINDING_KINDS = ['missing', 'altered', 'inserted', 'reordered', 'unsigned'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Something that is not as the proxy wrote it: verification fails. */
export interface Finding {
  kind: FindingKind;
  proxy: string;
  seq?: number;
  where?: string;
  detail: string;
}

/** Something an auditor should know that is not tampering (declared gaps, the unsigned tail, a cut). */
export interface Notice {
  proxy?: string;
  detail: string;
}

export interface ChainSummary {
  proxy: string;
  first: number;
  last: number;
  entries: number;
  checkpoints: number;
  /** The sequence of the last good checkpoint, if any. */
  signedThrough?: number;
}

export interface Verification {
  findings: Finding[];
  notices: Notice[];
  chains: ChainSummary[];
}

export function emptyVerification(): Verification {
  return { findings: [], notices: [], chains: [] };
}

/** Public keys by `keyIdOf`. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/**
 * Entries of one proxy in the order they were read. `inReadOrder`: the order is the order of writing
 * (files), so a sequence that goes backwards is a moved line.
 */
export function verifyChain(proxy: string, entries: TrailEntry[], keys: TrustedKeys, inReadOrder: boolean, into: Verification): void {
  const finding = (kind: FindingKind, entry: TrailEntry | undefined, detail: string, seq = entry?.seq) =>
    into.findings.push({ kind, proxy, ...(seq === undefined ? {} : { seq }), ...(entry ? { where: entry.where } : {}), detail });
  if (entries.length === 0) return;
  const counts = new Map<number, number>();
  for (const entry of entries) counts.set(entry.seq, (counts.get(entry.seq) ?? 0) + 1);
  if (inReadOrder) {
    let highest = -1;
    for (const entry of entries) {
      if (entry.seq < highest && counts.get(entry.seq) === 1) finding('reordered', entry, `read after sequence ${highest}`);
      highest = Math.max(highest, entry.seq);
    }
  }
  const sorted = entries.toSorted((a, b) => a.seq - b.seq);
  let last: TrailEntry | undefined;
  let signedThrough: number | undefined;
  let checkpoints = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.seq === sorted[i]!.seq) j++;
    const group = sorted.slice(i, j);
    const next = sorted[j]?.seq === sorted[i]!.seq + 1 ? sorted.slice(j).filter((entry) => entry.seq === sorted[j]!.seq) : [];
    i = j;
    // Of several entries at one sequence, the one that links both ways is the proxy's.
    const links = (entry: TrailEntry) => Number(last !== undefined && entry.prev === last.hash) + Number(next.some((after) => after.prev === entry.hash));
    const chosen = group.reduce((best, entry) => (links(entry) > links(best) ? entry : best));
    for (const other of group) if (other !== chosen) finding('inserted', other, `a second entry at this sequence; the one that links is at ${chosen.where}`);
    if (last !== undefined) {
      if (chosen.prev === GENESIS_PREVIOUS && chosen.seq !== last.seq + 1) {
        into.notices.push({ proxy, detail: `a new chain starts at sequence ${chosen.seq} (${chosen.where}): the proxy found no earlier line to continue from` });
      } else if (chosen.seq > last.seq + 1) {
        const range = chosen.seq === last.seq + 2 ? `${last.seq + 1}` : `${last.seq + 1} to ${chosen.seq - 1}`;
        finding('missing', undefined, `sequence ${range} missing between ${last.where} and ${chosen.where}`, last.seq + 1);
      } else if (chosen.prev !== last.hash) {
        finding('altered', last, `its hash does not match the link in sequence ${chosen.seq} (${chosen.where})`);
      }
    }
    if (chosen.checkpoint) {
      checkpoints++;
      const key = keys.get(chosen.checkpoint.checkpoint.key);
      if (key === undefined) finding('unsigned', chosen, `checkpoint signed with key ${chosen.checkpoint.checkpoint.key}, which is not among the public keys given`);
      else if (!checkpointSignatureValid(chosen.checkpoint, key)) finding('altered', chosen, 'checkpoint signature does not verify');
      else signedThrough = chosen.seq;
    }
    if (chosen.dropped !== undefined) {
      into.notices.push({ proxy, detail: `declared gap: the proxy could not write ${chosen.dropped} lines and said so at sequence ${chosen.seq} (${chosen.where})` });
    }
    last = chosen;
  }
  const first = sorted[0]!.seq;
  into.chains.push({ proxy, first, last: last!.seq, entries: entries.length, checkpoints, ...(signedThrough === undefined ? {} : { signedThrough }) });
  if (signedThrough === undefined) finding('unsigned', undefined, `no checkpoint signed by a given key: none of sequences ${first} to ${last!.seq} can be trusted`, first);
  else if (last!.seq > signedThrough) {
    into.notices.push({ proxy, detail: `sequences ${signedThrough + 1} to ${last!.seq} follow the last signed checkpoint: chained, not yet signed` });
  }
}
