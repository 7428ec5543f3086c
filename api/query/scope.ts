// The services a request may see. Every event query is built with one (filters.ts takes it as a
// required argument and EventStore.search takes only queries built there), and a request gets its
// scope only from its verified token (TokenGrant.scopeFor), so no endpoint can forget it.

import type { estypes } from '@elastic/elasticsearch';
import { FIELD } from '../../common/proxy-event-document.ts';

export class ServiceScope {
  /** The service ids visible; undefined: every service, and events that matched none. */
  readonly services: readonly string[] | undefined;

  constructor(services: readonly string[] | undefined) {
    this.services = services === undefined ? undefined : Object.freeze([...services]);
  }

  /** The clause that keeps a query inside the scope; none when every event is visible. */
  clause(): estypes.QueryDslQueryContainer | undefined {
    return this.services === undefined ? undefined : { terms: { [FIELD.serviceName]: [...this.services] } };
  }
}
