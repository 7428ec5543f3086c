// What the fault scenario watches while it runs: the API queried continuously (list and stats in
// turn), how many documents are searchable each second, and how long sampled lines take from
// their timestamp to searchable. Each probe keeps raw observations; scenario.ts judges them.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { request } from 'undici';
import { FIELD, indexPattern } from '../../../common/proxy-event-document.ts';

export interface ApiAnswer {
  /** When the request was sent, ms since the epoch. */
  at: number;
  ms: number;
  /** 0: no HTTP answer at all. */
  status: number;
  /** The body's `error` code and message, for answers other than 200. */
  error?: string;
  message?: string;
}

const API_QUERIES = ['/api/events/proxy?page_size=20', '/api/events/proxy/stats'];
/** Each client's pause between two queries: a steady few queries a second, not a load test of the API. */
const API_PAUSE_MS = 200;
const API_CLIENT_TIMEOUT_MS = 30_000;

export function probeApi(apiUrl: string, token: string, clients: number, signal: AbortSignal): Promise<ApiAnswer[]> {
  const answers: ApiAnswer[] = [];
  const client = async (offset: number) => {
    for (let i = offset; !signal.aborted; i++) {
      const at = Date.now();
      const answer: ApiAnswer = { at, ms: 0, status: 0 };
      try {
        const response = await request(`${apiUrl}${API_QUERIES[i % API_QUERIES.length]}`, {
          headers: { authorization: `Bearer ${token}` },
          headersTimeout: API_CLIENT_TIMEOUT_MS,
          bodyTimeout: API_CLIENT_TIMEOUT_MS,
        });
        answer.status = response.statusCode;
        const body = (await response.body.json()) as { error?: string; message?: string };
        if (response.statusCode !== 200) Object.assign(answer, { error: body.error, message: body.message });
      } catch (error) {
        answer.message = (error as Error).message;
      }
      answer.ms = Date.now() - at;
      answers.push(answer);
      await sleep(API_PAUSE_MS, undefined, { signal }).catch(() => undefined);
    }
  };
  return Promise.all(Array.from({ length: clients }, (_, i) => client(i))).then(() => answers);
}

/** A busy cluster may take seconds to count: a sample missed is a gap, spread over when the next one comes. */
const COUNT_TIMEOUT_MS = 5_000;

/** The number of searchable documents, about once a second; null when the cluster did not answer. */
export interface CountSample {
  at: number;
  count: number | null;
}

export async function probeCount(admin: Client, prefix: string, signal: AbortSignal): Promise<CountSample[]> {
  const samples: CountSample[] = [];
  while (!signal.aborted) {
    const at = Date.now();
    const count = await admin
      .count({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }, { requestTimeout: COUNT_TIMEOUT_MS, signal })
      .then((response) => response.count)
      .catch(() => null);
    samples.push({ at, count });
    await sleep(Math.max(0, at + 1_000 - Date.now()), undefined, { signal }).catch(() => undefined);
  }
  return samples;
}

export interface FreshnessSample {
  /** The line's own timestamp (the request's start), ms since the epoch. */
  lineAt: number;
  /** When a search first found it. */
  searchableAt: number;
}

const FRESHNESS_POLL_MS = 100;

/** Looks for the sampled request ids every 100 ms, all pending ones in one search. */
export class FreshnessProbe {
  readonly samples: FreshnessSample[] = [];
  readonly #pending = new Set<string>();
  readonly #done: Promise<void>;

  constructor(admin: Client, prefix: string, signal: AbortSignal) {
    this.#done = this.#run(admin, prefix, signal);
  }

  add(id: string): void {
    this.#pending.add(id);
  }

  get pending(): number {
    return this.#pending.size;
  }

  async #run(admin: Client, prefix: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const ids = [...this.#pending];
      if (ids.length > 0) {
        const response = await admin
          .search<Record<string, unknown>>(
            { index: indexPattern(prefix), size: ids.length, query: { terms: { [FIELD.eventId]: ids } }, fields: [FIELD.eventId, FIELD.timestamp], _source: false },
            { requestTimeout: 2_000, signal },
          )
          .catch(() => undefined);
        const now = Date.now();
        for (const hit of response?.hits.hits ?? []) {
          const id = String(hit.fields?.[FIELD.eventId]?.[0]);
          if (!this.#pending.delete(id)) continue;
          this.samples.push({ lineAt: Date.parse(String(hit.fields?.[FIELD.timestamp]?.[0])), searchableAt: now });
        }
      }
      await sleep(FRESHNESS_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  finished(): Promise<void> {
    return this.#done;
  }
}
