// Reads a small urlencoded form body (the login POST), bounded in size, counting its bytes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BodyTooLargeError, ClientClosedError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import { sendText, sendUnexpected } from '../respond.ts';

const MAX_FORM_BYTES = 8_192;

export async function readForm(req: IncomingMessage, exchange: Exchange): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) {
      exchange.bytesIn += (chunk as Buffer).length;
      if (exchange.bytesIn > MAX_FORM_BYTES) throw new BodyTooLargeError(`form body over ${MAX_FORM_BYTES} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    // Node's IncomingMessage fails its iteration with ECONNRESET when the client goes away mid-body.
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') throw new ClientClosedError('client closed the connection while sending the form', { cause: error });
    throw error;
  }
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The catch of a form POST's handler: a client gone is recorded by its close (499), a body too large is a 413, anything else a 500. */
export function formFailure(res: ServerResponse, exchange: Exchange, diagnostics: Logger): (error: unknown) => void {
  return (error) => {
    if (error instanceof ClientClosedError) return;
    if (!(error instanceof BodyTooLargeError)) return sendUnexpected(res, exchange, diagnostics, error);
    exchange.reason = 'login form too large';
    sendText(res, exchange, 413, 'form too large', { connection: 'close' });
  };
}
