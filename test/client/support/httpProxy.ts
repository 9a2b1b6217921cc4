import http from 'node:http';
import type net from 'node:net';

/**
 * What the proxy does with one request: forward it, answer as a server without that route, forward
 * it and damage the answer, or forward it and hold the answer back for SLOW_MS (a slow server).
 */
export type Interference = 'pass' | 'no_route' | 'damage' | 'slow';

export const SLOW_MS = 400;

export interface HttpProxy {
  readonly url: string;
  close(): Promise<void>;
}

// The first byte of the first record's chunk in a body of chunk records (after its 36-byte header).
const DAMAGED_AT = 36;

/**
 * An HTTP proxy to target on loopback that lets a test play an older server (a route answered as
 * the server's not-found handler answers an unknown one), a faulty network (one byte of an answer
 * flipped) or a slow one (an answer held back).
 */
export const startHttpProxy = async (target: string, interfere: (method: string, path: string) => Interference): Promise<HttpProxy> => {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', target).pathname;
    const action = interfere(req.method ?? 'GET', path);
    if (action === 'no_route') {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: `No route ${req.method} ${path}.` } }));
      return;
    }
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      if (action === 'slow') {
        answer.pause();
        setTimeout(() => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.resume();
        }, SLOW_MS);
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (action === 'pass') return void answer.pipe(res);
      let at = 0;
      answer.on('data', (piece: Buffer) => {
        const copy = Buffer.from(piece);
        if (at <= DAMAGED_AT && DAMAGED_AT < at + copy.length) copy[DAMAGED_AT - at] = (copy[DAMAGED_AT - at] as number) ^ 0xff;
        at += copy.length;
        res.write(copy);
      });
      answer.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
