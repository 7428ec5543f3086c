// Steady, bounded load through the proxies: an upstream in this process that answers every request
// and echoes the proxy's request id, and a paced sender per proxy. Some responses' ids are handed
// to the freshness probe (one a second per proxy), so it knows which lines to look for.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/** Beyond this many requests in flight per proxy a tick is skipped: the load stays bounded. */
const MAX_IN_FLIGHT = 64;
const REQUEST_ID_HEADER = 'x-request-id';

export async function startUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const id = req.headers[REQUEST_ID_HEADER];
    if (typeof id === 'string') res.setHeader(REQUEST_ID_HEADER, id);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface TrafficOptions {
  proxyUrls: string[];
  host: string;
  /** Requests a second to each proxy. */
  rate: number;
  sampleEveryMs: number;
  onSample(id: string): void;
}

export interface Traffic {
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<{ sent: number; failed: number; skipped: number }>;
}

export function startTraffic(options: TrafficOptions): Traffic {
  const pools = options.proxyUrls.map((url) => new Pool(url, { connections: 8 }));
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  const inFlight = new Set<Promise<void>>();
  const perProxy = options.proxyUrls.map(() => ({ inFlight: 0, lastSample: 0 }));
  const send = (index: number) => {
    const state = perProxy[index]!;
    if (state.inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      return;
    }
    state.inFlight++;
    sent++;
    const path = `/cluster/${index}/${sent}`;
    const done = pools[index]!
      .request({ method: 'GET', path, headers: { host: options.host } })
      .then(async (response) => {
        await response.body.dump();
        const id = response.headers[REQUEST_ID_HEADER];
        const now = Date.now();
        if (response.statusCode === 200 && typeof id === 'string' && now - state.lastSample >= options.sampleEveryMs) {
          state.lastSample = now;
          options.onSample(id);
        }
        if (response.statusCode !== 200) failed++;
      })
      .catch(() => {
        failed++;
      })
      .finally(() => {
        state.inFlight--;
        inFlight.delete(done);
      });
    inFlight.add(done);
  };
  const timer = setInterval(() => {
    for (let i = 0; i < pools.length; i++) send(i);
  }, 1000 / options.rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      await Promise.all(pools.map((pool) => pool.close()));
      return { sent, failed, skipped };
    },
  };
}
