import net from 'node:net';

export interface Proxy {
  readonly url: string;
  /** Connections accepted (online or not): how often the client tried. */
  readonly attempts: () => number;
  offline(): void;
  online(): void;
  close(): Promise<void>;
}

/** A TCP proxy to target on loopback that can drop the network: offline cuts every connection and refuses new ones. */
export const startProxy = async (target: string): Promise<Proxy> => {
  const { hostname, port } = new URL(target);
  let up = true;
  let attempts = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    attempts++;
    if (!up) return void client.destroy();
    const upstream = net.connect({ host: hostname, port: Number(port) });
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    attempts: () => attempts,
    offline: () => {
      up = false;
      for (const s of open) s.destroy();
      open.clear();
    },
    online: () => {
      up = true;
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
