import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/storage/postgres/embedded.js';
import { reachable, servicesRequired } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string | null;
  }
}

let embedded: EmbeddedPostgresHandle | undefined;
let tmpDir: string | undefined;

const urlReachable = async (url: string): Promise<boolean> => {
  const u = new URL(url);
  return reachable(u.hostname, Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)));
};

/**
 * Real services only. Postgres: TEST_DATABASE_URL, else the local server on 5432, else (a fresh
 * machine with nothing installed) an embedded Postgres started here. Redis has no embedded form:
 * tests that need it skip without it, unless STRATA_REQUIRE_SERVICES=1 makes that a failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const localPg = 'postgres://postgres@127.0.0.1:5432/postgres';
  let databaseUrl = process.env.TEST_DATABASE_URL ?? localPg;
  if (!(await urlReachable(databaseUrl))) {
    if (process.env.TEST_DATABASE_URL !== undefined || servicesRequired())
      throw new Error(`Postgres is not reachable at ${databaseUrl} (STRATA_REQUIRE_SERVICES=1 or TEST_DATABASE_URL set)`);
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-test-pg-'));
    fs.chmodSync(tmpDir, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(tmpDir, 'pg'), port: 0 });
    databaseUrl = embedded.url;
  }
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisUp = await urlReachable(redisUrl);
  if (!redisUp && servicesRequired()) throw new Error(`Redis is not reachable at ${redisUrl} and STRATA_REQUIRE_SERVICES=1`);
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUp ? redisUrl : null);
  return async () => {
    await embedded?.stop();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  };
}
