// The benchmark's documents as the shipper indexes them from a proxy's chained lines: each record
// sealed into its proxy's trail (proxy/trail-chain.ts) and carrying its sequence, hash and original
// line, so the store's bytes per document are those of a real deployment.

import type { AccessRecord } from '../../../common/access-record.ts';
import type { ProxyEventDocument } from '../../../common/proxy-event-document.ts';
import { TrailChain } from '../../../proxy/trail-chain.ts';
import { toDocument } from '../../../shipper/document.ts';
import { withTrail } from '../../../shipper/trail-document.ts';

export function* chainedDocuments(records: Iterable<AccessRecord>): Generator<ProxyEventDocument> {
  const chains = new Map<string, TrailChain>();
  for (const record of records) {
    let chain = chains.get(record.proxy);
    if (!chain) chains.set(record.proxy, (chain = new TrailChain(record.proxy, undefined, undefined)));
    const { proxy: _proxy, ...body } = record;
    const line = chain.seal(JSON.stringify(body).slice(1)).trimEnd();
    const sealed = JSON.parse(line) as AccessRecord;
    yield withTrail(toDocument(sealed), sealed, line);
  }
}
