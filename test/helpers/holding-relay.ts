// A TCP relay between a client of Elasticsearch (the API, the shipper) and the real node that can
// hold what one connection sends: a slow network in front of the node. While held, that
// connection's request waits at the relay, so a test knows it is in flight: the API's test closes
// its own client and sees whether the API aborts the request; the shipper's test sees a later bulk
// request answered while an earlier one is held.

import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Relay {
  url: string;
  /** From the chunk where `match` (e.g. `_search`) is complete, holds what a connection sends, until release(). */
  hold(match: string): void;
  /** Sends what was held and lets everything through again. */
  release(): void;
  /** Connections that have bytes waiting at the relay. */
  heldConnections(): number;
  /** Connections the API closed while they had bytes held: requests it aborted in flight. */
  abortedWhileHeld(): number;
  close(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  let holding: string | undefined;
  let aborted = 0;
  /** Per API connection: its Elasticsearch side and the bytes waiting. */
  const held = new Map<Socket, { es: Socket; chunks: Buffer[] }>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((api) => {
    const es = connect(Number(port), hostname);
    sockets.add(api).add(es);
    es.pipe(api);
    /** The end of what the connection sent before, so a match split between two chunks is found. */
    let tail = Buffer.alloc(0);
    api.on('data', (chunk: Buffer) => {
      const waiting = held.get(api);
      if (waiting) waiting.chunks.push(chunk);
      else if (holding !== undefined && Buffer.concat([tail, chunk]).includes(holding)) held.set(api, { es, chunks: [chunk] });
      else {
        es.write(chunk);
        tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (holding?.length ?? 0))));
      }
    });
    api.on('close', () => {
      if (held.has(api)) aborted++;
      held.delete(api);
      es.destroy();
    });
    es.on('close', () => api.destroy());
    api.on('error', () => {});
    es.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hold: (match) => {
      holding = match;
    },
    release() {
      holding = undefined;
      for (const { es, chunks } of held.values()) es.write(Buffer.concat(chunks));
      held.clear();
    },
    heldConnections: () => held.size,
    abortedWhileHeld: () => aborted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
