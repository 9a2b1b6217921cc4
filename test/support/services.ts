import net from 'node:net';

/** True when something accepts TCP connections at host:port within timeoutMs. */
export const reachable = (host: string, port: number, timeoutMs = 1000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

/** CI sets STRATA_REQUIRE_SERVICES=1 so a test that would skip for a missing service fails instead. */
export const servicesRequired = (): boolean => process.env.STRATA_REQUIRE_SERVICES === '1';
