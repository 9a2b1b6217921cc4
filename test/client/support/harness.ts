import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { login, signup } from '../../../src/client/account.js';
import { silentReporter, type Reporter, type SyncOptions } from '../../../src/client/sync/context.js';
import { SyncEngine } from '../../../src/client/sync/engine.js';
import type { GatewaySettings } from '../../../src/gateway/deps.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

export const PASSWORD = 'correct horse battery staple';
export const MiB = 1024 * 1024;

/** Budgets no test here reaches: these tests are about sync, the limits have tests of their own. */
export const UNLIMITED = { devicePerMinute: 1_000_000, workspacePerMinute: 1_000_000, addressPerMinute: 1_000_000 };

export interface TestServer {
  readonly db: TestDatabase;
  readonly gateway: TestGateway;
  readonly url: string;
  /** strata_bytes_in_total: chunk bytes the server received and verified. */
  bytesIn(): Promise<number>;
  /** strata_http_requests_total of one route and method, all statuses. */
  requests(method: string, route: string): Promise<number>;
  close(): Promise<void>;
}

export const startServer = async (settings: Partial<GatewaySettings> = {}): Promise<TestServer> => {
  const db = await createTestDatabase();
  const gateway = await startTestGateway(db, { settings: { rateLimits: UNLIMITED, ...settings } });
  return {
    db,
    gateway,
    url: gateway.url,
    ...metricsOf(gateway.url),
    close: async () => {
      await gateway.close();
      await db.drop();
    },
  };
};

const metricsOf = (url: string) => ({
  bytesIn: async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('strata_bytes_in_total'));
    return Number(line?.split(' ')[1] ?? 0);
  },
  requests: async (method: string, route: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('strata_http_requests_total{') && l.includes(`method="${method}"`) && l.includes(`route="${route}"`))
      .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
  },
});

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = (s.address() as net.AddressInfo);
      s.close(() => resolve(port));
    });
  });

/**
 * The server as its own process (src/main.ts on a test database): for the heavy tests, so that the
 * server and the clients under test do not share one event loop on a two-core machine.
 */
export const startServerProcess = async (): Promise<Omit<TestServer, 'gateway'>> => {
  const db = await createTestDatabase({ migrate: false });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-server-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../../..'),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      STRATA_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      STRATA_RATE_LIMITS: `device=${UNLIMITED.devicePerMinute},workspace=${UNLIMITED.workspacePerMinute},address=${UNLIMITED.addressPerMinute}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (i > 600) throw new Error('server did not become ready');
    if ((await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    db,
    url,
    ...metricsOf(url),
    close: async () => {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'strata-client-'));

export interface Account {
  readonly email: string;
}

export const newAccount = async (server: Pick<TestServer, 'url'>): Promise<Account> => {
  const email = `u${crypto.randomBytes(6).toString('hex')}@example.com`;
  await signup(server.url, email, PASSWORD);
  return { email };
};

export interface TestDevice {
  readonly name: string;
  readonly dir: string;
  /** Opens the engine, syncs until quiet, closes it. */
  sync(options?: Partial<SyncOptions>, reporter?: Reporter, giveUpMs?: number): Promise<Awaited<ReturnType<SyncEngine['syncUntilQuiet']>>>;
  file(rel: string): string;
  write(rel: string, data: string | Uint8Array): void;
  read(rel: string): Buffer;
  cleanup(): void;
}

export const FAST: Partial<SyncOptions> = { stableMs: 0 };

/** A device signed in to the account with its own synced folder; via: another address of the server (a proxy). */
export const newDevice = async (server: Pick<TestServer, 'url'>, account: Account, name: string, options: { dir?: string; via?: string } = {}): Promise<TestDevice> => {
  const dir = options.dir ?? path.join(tmpRoot(), name);
  fs.mkdirSync(dir, { recursive: true });
  await login({ server: options.via ?? server.url, email: account.email, password: PASSWORD, deviceName: name, dir });
  const file = (rel: string) => path.join(dir, ...rel.split('/'));
  return {
    name,
    dir,
    file,
    sync: async (options = {}, reporter = silentReporter, giveUpMs = 5_000) => {
      const engine = await SyncEngine.open(dir, reporter, { ...FAST, ...options });
      try {
        return await engine.syncUntilQuiet(giveUpMs);
      } finally {
        await engine.close();
      }
    },
    write: (rel, data) => {
      fs.mkdirSync(path.dirname(file(rel)), { recursive: true });
      fs.writeFileSync(file(rel), data);
    },
    read: (rel) => fs.readFileSync(file(rel)),
    cleanup: () => fs.rmSync(path.dirname(dir), { recursive: true, force: true }),
  };
};

/** Every file (SHA-256 of its bytes) and folder ('dir') under dir, .strata/ aside, by relative path. */
export const treeOf = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? d.name : `${rel}/${d.name}`;
      if (child === '.strata') continue;
      if (d.isDirectory()) {
        out[child] = 'dir';
        walk(child);
      } else out[child] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, child))).digest('hex');
    }
  };
  walk('');
  return out;
};

/** Pseudo-random bytes, fast for large sizes: a seeded AES-CTR keystream. */
export const noise = (size: number, seed: number): Buffer => {
  const key = crypto.createHash('sha256').update(`seed:${seed}`).digest();
  const cipher = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
};

/**
 * A server for the tests of one describe block, started before them and stopped after, and the
 * devices they sign in, cleaned up after. devicesOf: a new account with one device per name.
 */
export const useServer = <S extends Pick<TestServer, 'url' | 'close'>>(start: () => Promise<S>) => {
  let started: S | undefined;
  const made: TestDevice[] = [];
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    for (const d of made) d.cleanup();
    await started?.close();
  });
  const server = (): S => {
    if (started === undefined) throw new Error('the server starts before the tests');
    return started;
  };
  return {
    server,
    devicesOf: async (...names: string[]): Promise<TestDevice[]> => {
      const account = await newAccount(server());
      const devices: TestDevice[] = [];
      for (const name of names) devices.push(await newDevice(server(), account, name));
      made.push(...devices);
      return devices;
    },
  };
};
