// Least privilege on a secured cluster: one role per part, each limited to the daily indices of one
// prefix, and an API key per part carrying exactly that role. The shipper creates documents and
// indices and nothing else; the API reads (search and point in time) and appends its own audit
// log; retention lists and deletes indices. None may touch the index templates, which the
// operator installs here once.

import type { Client, estypes } from '@elastic/elasticsearch';
import { auditIndexPattern, auditIndexTemplate } from '../../common/api-audit-document.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { indexPattern, trailIndexPrefix } from '../../common/proxy-event-document.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';

export const PARTS = ['shipper', 'api', 'retention'] as const;
export type Part = (typeof PARTS)[number];

/**
 * What each part may do, on `<prefix>-*` and the trail's `<prefix>.trail-*` only. `create_doc` allows the shipper's bulk `create` (and
 * refuses `index`, which could overwrite an event); `create_index` its creating tomorrow's index.
 * The API's cluster `monitor` is for its /healthz, which reports the cluster's health; the
 * shipper's for looking up the index template it may not install. Neither reads documents. Retention's `view_index_metadata` lets it list the prefix's indices before deleting old ones.
 */
const PRIVILEGES: Record<Part, { cluster: string[]; indices: string[] }> = {
  shipper: { cluster: ['monitor'], indices: ['create_doc', 'create_index'] },
  api: { cluster: ['monitor'], indices: ['read'] },
  retention: { cluster: [], indices: ['view_index_metadata', 'delete_index'] },
};

export function roleName(prefix: string, part: Part): string {
  return `${prefix}-${part}`;
}

/** The API's own audit log (`<prefix>_audit-*`): it creates its documents and daily indices, and reads them. */
const API_AUDIT_PRIVILEGES = ['read', 'create_doc', 'create_index'];

export function roleDescriptor(prefix: string, part: Part): estypes.SecurityRoleDescriptor {
  const { cluster, indices } = PRIVILEGES[part];
  const events = { names: [indexPattern(prefix), indexPattern(trailIndexPrefix(prefix))], privileges: indices };
  const audit = { names: [auditIndexPattern(prefix)], privileges: API_AUDIT_PRIVILEGES };
  return { cluster, indices: part === 'api' ? [events, audit] : [events] };
}

export interface PartAccess {
  part: Part;
  role: string;
  /** The key as `elasticsearch.api_key` and ELASTICSEARCH_API_KEY take it (base64 of id:key). */
  apiKey: string;
}

/**
 * Installs the index templates (events and the API's audit log), then creates (or updates) each part's role and a new API key
 * restricted to it. Running it again leaves earlier keys valid: invalidate them once the parts use
 * the new ones.
 */
export async function setupAccess(client: Client, prefix: string): Promise<PartAccess[]> {
  const storage = new ElasticsearchStorage(client);
  await installIndexTemplate(storage, prefix);
  await storage.putIndexTemplate(auditIndexTemplate(prefix));
  const access: PartAccess[] = [];
  for (const part of PARTS) {
    const role = roleName(prefix, part);
    const descriptor = roleDescriptor(prefix, part);
    await client.security.putRole({ name: role, ...descriptor });
    const key = await client.security.createApiKey({ name: role, role_descriptors: { [role]: descriptor } });
    access.push({ part, role, apiKey: key.encoded });
  }
  return access;
}
