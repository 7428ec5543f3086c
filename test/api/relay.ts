// A TCP relay between the API and Elasticsearch that can hold what the API sends: a slow network
// in front of the real node. While held, the API's requests wait at the relay, so a test can
// close the client of a request whose Elasticsearch request is certainly in flight, and see
// whether the API closes that connection (its Elasticsearch request aborted).

import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Relay {
  url: string;
  /** From the first chunk that contains `match` (e.g. `_search`), holds what a connection sends, until release(). */
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
    api.on('data', (chunk: Buffer) => {
      const waiting = held.get(api);
      if (waiting) waiting.chunks.push(chunk);
      else if (holding !== undefined && chunk.includes(holding)) held.set(api, { es, chunks: [chunk] });
      else es.write(chunk);
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
