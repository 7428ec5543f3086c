// The trail in Elasticsearch (common/trail.ts): an event document carries its line's sequence, hash
// and exact text, so verify-trail can check the document against the line and the line against the
// chain; a checkpoint line becomes a document of its own in `<prefix>.trail-YYYY.MM.DD`.

import type { AccessRecord } from '../common/access-record.ts';
import { dailyIndexName, trailIndexPrefix, type ProxyEventDocument, type TrailCheckpointDocument } from '../common/proxy-event-document.ts';
import { lineHash, type CheckpointLine } from '../common/trail.ts';

/** `document` with the trail of the line `text` it was made from; unchanged for a line from before the trail. */
export function withTrail(document: ProxyEventDocument, record: AccessRecord, text: string): ProxyEventDocument {
  if (record.seq === undefined) return document;
  document.event.sequence = record.seq;
  document.event.hash = lineHash(text);
  document.event.original = text;
  return document;
}

export function checkpointDocument(line: CheckpointLine, text: string): TrailCheckpointDocument {
  return {
    '@timestamp': line.checkpoint.time,
    event: { kind: 'state', sequence: line.seq, hash: lineHash(text), original: text },
    observer: { name: line.proxy },
  };
}

/** The daily trail index a checkpoint goes to: the UTC day it was signed. */
export function checkpointIndex(prefix: string, line: CheckpointLine): string {
  return dailyIndexName(trailIndexPrefix(prefix), new Date(line.checkpoint.time));
}
