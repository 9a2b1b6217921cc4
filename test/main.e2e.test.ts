import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

const start = (dataDir: string, port: number): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    // A fresh machine: no DATABASE_URL, so the embedded Postgres starts under dataDir.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, STRATA_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const ready = async (port: number, child: ChildProcess): Promise<Record<string, unknown>> => {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return (await res.json()) as Record<string, unknown>;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not become ready');
};

const stop = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('npm start on a machine with nothing installed', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-start-'));
  fs.chmodSync(dataDir, 0o755);
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('comes up on embedded Postgres, keeps its data across a restart, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const first = start(dataDir, port);
    let logs = '';
    first.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    expect(await ready(port, first)).toMatchObject({ status: 'ready', checks: { database: { ok: true }, blobs: { ok: true } } });
    expect(logs).toContain('"msg":"schema up to date"');
    expect(await stop(first)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    const again = start(dataDir, port);
    let logs2 = '';
    again.stdout?.on('data', (d: Buffer) => (logs2 += d.toString()));
    await ready(port, again);
    expect(logs2).toContain('"applied":[]');
    expect(await stop(again)).toBe(0);
  }, 120_000);
});
