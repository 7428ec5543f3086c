// HTTP batches: one POST per batch, one JSON object a line. `ndjson` sends the document itself
// (application/x-ndjson); `hec` wraps it as a Splunk HTTP Event Collector event, which HEC's
// /services/collector/event endpoint takes newline-separated in one request. A 2xx answer is the
// receiver's confirmation; anything else, or no answer, and the batch is sent again whole.

import { Agent, request } from 'undici';
import type { AccessRecord } from '../../common/access-record.ts';
import type { HttpOutputConfig } from '../config.ts';
import { EVENT_SOURCE, OutputDeliveryError, siemDocument, type Output } from './output.ts';

/** HEC's sourcetype for JSON events, which Splunk parses into fields. */
const HEC_SOURCETYPE = '_json';
/** How much of a refusal's body goes into the retry's diagnostics line. */
const REFUSAL_TEXT_CHARS = 200;

export class HttpOutput implements Output {
  readonly #config: HttpOutputConfig;
  readonly #dispatcher: Agent;
  readonly #headers: Record<string, string>;
  /** The URL without credentials or query, for diagnostics. */
  readonly #where: string;

  constructor(config: HttpOutputConfig) {
    this.#config = config;
    const url = new URL(config.url);
    this.#where = `${url.origin}${url.pathname}`;
    this.#dispatcher = new Agent({ connect: { ca: config.tls?.ca_file?.text } });
    const hec = config.format === 'hec';
    this.#headers = { 'content-type': hec ? 'application/json' : 'application/x-ndjson' };
    if (config.token_file) this.#headers.authorization = `${hec ? 'Splunk' : 'Bearer'} ${config.token_file.text}`;
  }

  encode(record: AccessRecord, eventId: string): string {
    const document = siemDocument(record, eventId);
    if (this.#config.format === 'ndjson') return JSON.stringify(document);
    return JSON.stringify({ time: Date.parse(record.time) / 1000, host: record.proxy, source: EVENT_SOURCE, sourcetype: HEC_SOURCETYPE, event: document });
  }

  async deliver(events: readonly string[], signal: AbortSignal): Promise<void> {
    const where = this.#where;
    let response;
    try {
      response = await request(this.#config.url, { method: 'POST', headers: this.#headers, body: `${events.join('\n')}\n`, dispatcher: this.#dispatcher, signal });
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      throw new OutputDeliveryError(`HTTP receiver ${where}: ${code ?? message}`, { cause: error });
    }
    const text = await response.body.text().catch(() => '');
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new OutputDeliveryError(`HTTP receiver ${where} answered ${response.statusCode}: ${text.slice(0, REFUSAL_TEXT_CHARS)}`);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
