// The client's IP: the socket peer, or — when the peer is a trusted proxy — the right-most address
// of X-Forwarded-For that is not itself trusted. Addresses are normalised (IPv4-mapped IPv6 to
// IPv4, IPv6 to its canonical compressed lower-case form, zone ids dropped) so one client has one
// spelling in the log.

import { BlockList, isIP } from 'node:net';

const MAPPED_PREFIX = '::ffff:';

/** Canonical text of an address, or undefined when it is not an IP address. */
export function normalizeIp(text: string): string | undefined {
  let address = text;
  const zone = address.indexOf('%');
  if (zone !== -1) address = address.slice(0, zone);
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return undefined;
  const lower = address.toLowerCase();
  if (lower.startsWith(MAPPED_PREFIX) && isIP(lower.slice(MAPPED_PREFIX.length)) === 4) return lower.slice(MAPPED_PREFIX.length);
  const canonical = new URL(`http://[${lower}]/`).hostname.slice(1, -1);
  if (canonical.startsWith(MAPPED_PREFIX)) {
    const [high, low] = canonical.slice(MAPPED_PREFIX.length).split(':').map((part) => parseInt(part, 16));
    if (high !== undefined && low !== undefined && !Number.isNaN(high) && !Number.isNaN(low)) {
      return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
    }
  }
  return canonical;
}

/** One X-Forwarded-For element: a bare address, `[v6]:port`, `"[v6]"` or `v4:port`. */
function parseForwardedElement(element: string): string | undefined {
  let text = element.trim();
  if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end === -1 ? undefined : normalizeIp(text.slice(1, end));
  }
  const colon = text.indexOf(':');
  if (colon !== -1 && text.indexOf(':', colon + 1) === -1) text = text.slice(0, colon);
  return normalizeIp(text);
}

export class ClientIpResolver {
  readonly #trusted = new BlockList();
  readonly #hasTrusted: boolean;

  constructor(trustedCidrs: readonly string[]) {
    for (const entry of trustedCidrs) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#trusted.addAddress(address, family);
      else this.#trusted.addSubnet(address, Number(bits), family);
    }
    this.#hasTrusted = trustedCidrs.length > 0;
  }

  isTrusted(address: string): boolean {
    return this.#hasTrusted && this.#trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * `peer` is the already-normalised socket address. An unparseable X-Forwarded-For element ends
   * the walk: nothing left of it can be trusted, so the last trusted hop is the answer.
   */
  resolve(peer: string, forwardedFor: string | string[] | undefined): string {
    if (forwardedFor === undefined || !this.isTrusted(peer)) return peer;
    const elements = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    let client = peer;
    for (let index = elements.length - 1; index >= 0; index--) {
      const address = parseForwardedElement(elements[index]!);
      if (address === undefined) return client;
      client = address;
      if (!this.isTrusted(address)) return address;
    }
    return client;
  }
}

/** Normalised socket peer; the fast path covers what Node reports for IPv4 and dual-stack sockets. */
export function peerAddress(remote: string | undefined): string {
  if (remote === undefined) return '0.0.0.0';
  if (remote.startsWith(MAPPED_PREFIX) && remote.indexOf('.') !== -1) return remote.slice(MAPPED_PREFIX.length);
  if (remote.indexOf(':') === -1) return remote;
  return normalizeIp(remote) ?? remote;
}
