import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startGateway, type RunningGateway } from '../../src/gateway/compose.js';
import type { GatewaySettings } from '../../src/gateway/deps.js';
import type { Authenticator } from '../../src/gateway/http/auth.js';
import { withCircuitBreaker } from '../../src/storage/blobs/breaker.js';
import { createFilesystemBlobStore } from '../../src/storage/blobs/filesystem.js';
import type { BlobStore } from '../../src/storage/blobs/port.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestGateway extends RunningGateway {
  readonly blobDir: string;
}

/** A real gateway on 127.0.0.1 (random port) over a test database and a filesystem blob store in a temp dir. */
export const startTestGateway = async (
  db: TestDatabase,
  options: {
    settings?: Partial<GatewaySettings>;
    redisUrl?: string | null;
    blobs?: BlobStore;
    now?: () => Date;
    secret?: Buffer;
    authenticator?: Authenticator;
  } = {},
): Promise<TestGateway> => {
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-blobs-'));
  const blobs = options.blobs ?? withCircuitBreaker(await createFilesystemBlobStore({ root: blobDir, packs: { pool: db.pool } }));
  const running = await startGateway(
    {
      pool: db.pool,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      blobs,
      redisUrl: options.redisUrl ?? null,
      ...(options.now ? { now: options.now } : {}),
      ...(options.authenticator ? { authenticator: options.authenticator } : {}),
      settings: {
        publicUrl: null,
        defaultQuotaBytes: 10 * 1024 ** 3,
        secret: options.secret ?? crypto.randomBytes(32),
        accessTokenTtlSeconds: 900,
        transferUrlTtlSeconds: 600,
        ...options.settings,
      },
    },
    { port: 0, host: '127.0.0.1' },
  );
  return {
    ...running,
    blobDir,
    close: async () => {
      await running.close();
      if ('circuit' in blobs) (blobs as { circuit: { shutdown(): void } }).circuit.shutdown();
      fs.rmSync(blobDir, { recursive: true, force: true });
    },
  };
};

/** fetch against the gateway, JSON in and out. */
export const api = (base: string) => {
  const call = async (method: string, url: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json as Record<string, unknown> & { error?: { code: string; message: string; details: Record<string, unknown> } } };
  };
  return {
    get: (url: string, token?: string, headers?: Record<string, string>) => call('GET', url, undefined, token, headers),
    post: (url: string, body: unknown, token?: string, headers?: Record<string, string>) => call('POST', url, body, token, headers),
    put: (url: string, body: unknown, token?: string, headers?: Record<string, string>) => call('PUT', url, body, token, headers),
    delete: (url: string, token?: string) => call('DELETE', url, undefined, token),
  };
};

/** A database and a gateway on it for the tests of one describe block: made before them (handed to ready), closed and dropped after. */
export const useGateway = (ready: (db: TestDatabase, gw: TestGateway) => void, options: Parameters<typeof startTestGateway>[1] = {}): void => {
  let db: TestDatabase | undefined;
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db, options);
    ready(db, gw);
  });
  afterAll(async () => {
    await gw?.close();
    await db?.drop();
  });
};
