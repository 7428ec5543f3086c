// Syslog (RFC 5424) over TCP or TLS, octet-counted (RFC 6587 §3.4.1: `<length> <message>`, no
// trailer, so a message may hold any byte). One connection per batch: the batch is written, our
// side closed, and the batch counts as delivered only when the receiver closes its side in answer,
// which it does after reading everything before our close (rsyslog's imtcp, syslog-ng). TCP alone
// says nothing about what the receiving process read; that close is the only confirmation plain
// syslog gives.

import { isIP, connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { categoryOf, type AccessRecord, type Category } from '../../common/access-record.ts';
import type { SyslogOutputConfig } from '../config.ts';
import { EVENT_SOURCE, OutputDeliveryError, siemDocument, type Output } from './output.ts';

/** SD-ID of the structured data: a name@<enterprise number>; 32473 is the number RFC 5612 reserves for documentation and private use. */
export const STRUCTURED_DATA_ID = 'proxy_access@32473';
export const SYSLOG_MSGID = 'access';

/** RFC 5424 severities: informational, notice, warning, error. */
const SEVERITY: Record<Category, number> = { allowed: 6, client_error: 5, denied: 4, error: 3 };
/** Record fields the header carries already (TIMESTAMP, HOSTNAME). */
const IN_HEADER = new Set<string>(['time', 'proxy']);

/** HOSTNAME is 1 to 255 printable US-ASCII characters. */
function hostnameOf(proxy: string): string {
  return proxy.replace(/[^\x21-\x7e]/g, '_').slice(0, 255);
}

/** PARAM-VALUE escapes `"`, `\` and `]` (RFC 5424 §6.3.3). */
function paramValue(value: unknown): string {
  return String(value).replace(/["\\\]]/g, '\\$&');
}

/** The record's own fields, as the proxy wrote them, with the dedup key and the category. */
function structuredData(record: AccessRecord, eventId: string): string {
  let data = `[${STRUCTURED_DATA_ID} event_id="${eventId}" category="${categoryOf(record.status)}"`;
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined && !IN_HEADER.has(name)) data += ` ${name}="${paramValue(value)}"`;
  }
  return `${data}]`;
}

export class SyslogOutput implements Output {
  readonly #config: SyslogOutputConfig;

  constructor(config: SyslogOutputConfig) {
    this.#config = config;
  }

  encode(record: AccessRecord, eventId: string): string {
    const priority = this.#config.facility * 8 + SEVERITY[categoryOf(record.status)];
    const header = `<${priority}>1 ${record.time} ${hostnameOf(record.proxy)} ${EVENT_SOURCE} - ${SYSLOG_MSGID}`;
    // MSG without a BOM (RFC 5424's MSG-ANY): receivers would keep it as part of the text.
    const message =
      this.#config.format === 'json'
        ? `${header} - ${JSON.stringify(siemDocument(record, eventId))}`
        : `${header} ${structuredData(record, eventId)} ${record.method} ${record.host}${record.path} ${record.status}`;
    return `${Buffer.byteLength(message)} ${message}`;
  }

  async deliver(events: readonly string[], signal: AbortSignal): Promise<void> {
    const { host, port, transport, tls } = this.#config;
    const where = `${transport}://${host}:${port}`;
    await new Promise<void>((resolve, reject) => {
      let socket: Socket;
      if (transport === 'tls') {
        const servername = tls?.server_name ?? (isIP(host) ? undefined : host);
        socket = connectTls({ host, port, ca: tls?.ca_file?.text, servername });
      } else {
        socket = connectTcp({ host, port });
      }
      let written = false;
      let answered = false;
      const fail = (why: string) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new OutputDeliveryError(`syslog receiver ${where}: ${why}`));
      };
      const onAbort = () => fail('given up (timeout or stop)');
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => socket.end(events.join('')));
      socket.once('finish', () => (written = true));
      // A close before our batch was all written is the receiver going away, not an answer.
      socket.once('end', () => (answered = written));
      socket.once('close', () => {
        signal.removeEventListener('abort', onAbort);
        if (answered) resolve();
        else reject(new OutputDeliveryError(`syslog receiver ${where}: connection closed before the batch was read`));
      });
      socket.resume(); // a receiver that answers with text: read and dropped
    });
  }

  async close(): Promise<void> {}
}
