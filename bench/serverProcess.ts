import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** One Prometheus sample value from /metrics (summed over label sets), or NaN. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const root = path.resolve(import.meta.dirname, '..');

/**
 * Runs a script as its own process (a Strata node by default), so the load generator and the server
 * do not share one event loop. Resolves once GET /readyz answers 200.
 */
export const startServerProcess = async (options: { env: Record<string, string>; script?: string; readyPath?: string }): Promise<ServerProcess> => {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-'));
  fs.chmodSync(dataDir, 0o755);
  // BENCH_SERVER_CPU_PROF=DIR: the node writes a V8 CPU profile into DIR when it stops.
  const profile = process.env.BENCH_SERVER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', options.script ?? 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', STRATA_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${url}${options.readyPath ?? '/readyz'}`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`server not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    metric: async (name) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const values = text
        .split('\n')
        .filter((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{'))
        .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
      return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          fs.rmSync(dataDir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
};
