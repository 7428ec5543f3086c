// The part of http-proxy (which ships no types) that the benchmark peer uses.
declare module 'http-proxy' {
  import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
  interface ProxyServer {
    web(req: IncomingMessage, res: ServerResponse): void;
    on(event: 'error', listener: (error: Error, req: IncomingMessage, res: ServerResponse) => void): this;
  }
  const httpProxy: { createProxyServer(options: { target: string; agent?: Agent; xfwd?: boolean }): ProxyServer };
  export default httpProxy;
}
