// The engine a connection names, and the start check of a process that starts whether or not the
// cluster is up. Telling the engines apart by `GET /` is common/search-engine.ts.

import type { ElasticsearchConnection } from '../elasticsearch-connection.ts';
import { checkEngine, EngineMismatchError, type Engine } from '../search-engine.ts';

/** The engine of a connection that names none. */
export function engineOf(connection: { engine?: Engine }): Engine {
  return connection.engine ?? 'elasticsearch';
}

const UNANSWERED_RETRY_MS = 5_000;

/**
 * For a process that starts whether or not the cluster is up (the API): checks the engine once the
 * cluster answers, asking again every few seconds until then. Resolves with the mismatch, if any.
 */
export async function engineMismatchOnceReachable(connection: ElasticsearchConnection, signal?: AbortSignal): Promise<EngineMismatchError | undefined> {
  for (;;) {
    try {
      await checkEngine(connection, engineOf(connection));
      return undefined;
    } catch (error) {
      if (error instanceof EngineMismatchError) return error;
      await new Promise((resolve) => setTimeout(resolve, UNANSWERED_RETRY_MS).unref());
      if (signal?.aborted) return undefined;
    }
  }
}
