// What a SIEM output is to its pipeline (pipeline.ts): each event is encoded once, when its line is
// read, into the text the receiver gets; batches of encoded events are then delivered, and a
// delivery resolves only once the receiver has the whole batch. Everything else (reading, batching,
// retrying, the output's own checkpoint) is the pipeline's.

import type { AccessRecord } from '../../common/access-record.ts';
import { ProxyAccessLogError } from '../../common/errors.ts';
import type { ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { toDocument } from '../document.ts';

/** Who sent the event, as the receiver sees it: syslog APP-NAME, HEC `source`. */
export const EVENT_SOURCE = 'proxy-access-log';

export interface Output {
  /**
   * The event as the receiver gets it. `eventId` is the dedup key: the Elasticsearch `_id` of the
   * same line (shipper/document-id.ts), the same however often the line is sent.
   */
  encode(record: AccessRecord, eventId: string): string;
  /** Resolves once the receiver has every event of the batch; rejects (the batch is retried) otherwise. */
  deliver(events: readonly string[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A batch the receiver did not confirm: refused, unreachable, cut off or too slow. */
export class OutputDeliveryError extends ProxyAccessLogError {
  readonly code = 'SHIPPER_OUTPUT_UNDELIVERED';
}

/** The JSON body of an event: the Elasticsearch document with its dedup key. */
export type SiemDocument = ProxyEventDocument & { event_id: string };

export function siemDocument(record: AccessRecord, eventId: string): SiemDocument {
  return { event_id: eventId, ...toDocument(record) };
}
