// What can be read of a request Node's parser refused, from the bytes it was parsing when it gave
// up: the method, target, Host and User-Agent — nothing else (no other header, and the log keeps
// only the target's path, never its query string).

export interface RequestHead {
  /** Empty when the request line did not start with a valid method. */
  method: string;
  target: string;
  host: string | undefined;
  userAgent: string | undefined;
  /** Whether the request line ended (CRLF) within the bytes seen: an overflow before that is an overlong URI. */
  requestLineEnded: boolean;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const HEAD_END = '\r\n\r\n';

/**
 * `packet` is the chunk being parsed (`error.rawPacket`), `errorOffset` where parsing failed
 * (`error.bytesParsed`). The chunk can also hold earlier pipelined requests: the refused one starts
 * after the last blank line before the failure.
 */
export function readRequestHead(packet: Buffer | undefined, errorOffset: number | undefined): RequestHead {
  const head: RequestHead = { method: '', target: '', host: undefined, userAgent: undefined, requestLineEnded: false };
  if (packet === undefined || packet.length === 0) return head;
  const text = packet.toString('latin1');
  const failedAt = Math.min(errorOffset ?? text.length, text.length);
  const previousEnd = text.lastIndexOf(HEAD_END, failedAt - HEAD_END.length);
  const start = previousEnd === -1 ? 0 : previousEnd + HEAD_END.length;
  const end = text.indexOf(HEAD_END, start);
  const lines = text.slice(start, end === -1 ? text.length : end).split('\r\n');
  const requestLine = lines[0]!.split(' ');
  head.requestLineEnded = lines.length > 1 && start + lines[0]!.length < failedAt;
  if (requestLine.length >= 2 && METHOD.test(requestLine[0]!)) {
    head.method = requestLine[0]!;
    head.target = requestLine[1]!;
  }
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'host') head.host ??= line.slice(colon + 1).trim();
    else if (name === 'user-agent') head.userAgent ??= line.slice(colon + 1).trim();
  }
  return head;
}
