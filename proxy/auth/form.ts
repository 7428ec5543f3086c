// Reads a small urlencoded form body (the login POST), bounded in size, counting its bytes.

import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, ClientClosedError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';

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
