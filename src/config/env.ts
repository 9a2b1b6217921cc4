import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';

const IntFromString = new t.Type<number, string, unknown>(
  'IntFromString',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'string' && /^\d+$/.test(u) ? t.success(Number(u)) : t.failure(u, c, 'expected a whole number')),
  String,
);

/** Every setting Strata reads from its environment; decoded once at start, typed everywhere after. */
const Env = t.partial({
  PORT: IntFromString,
  HOST: t.string,
  STRATA_DATA_DIR: t.string,
  DATABASE_URL: t.string,
  REDIS_URL: t.string,
  S3_ENDPOINT: t.string,
  ESDB_URL: t.string,
  LOG_LEVEL: t.keyof({ fatal: null, error: null, warn: null, info: null, debug: null, trace: null, silent: null }),
  STRATA_QUOTA_BYTES: IntFromString,
  STRATA_PG_POOL_SIZE: IntFromString,
  STRATA_SECRET: t.string,
  STRATA_RATE_LIMITS: t.string,
  STRATA_CHANGES_CACHE_BYTES: IntFromString,
  STRATA_RETENTION_DAYS: IntFromString,
  STRATA_PURGE_INTERVAL_MINUTES: IntFromString,
  STRATA_GC_INTERVAL_MINUTES: IntFromString,
  STRATA_PUBLIC_URL: t.string,
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Absent: start the embedded Postgres under dataDir. */
  readonly databaseUrl: string | null;
  readonly redisUrl: string | null;
  readonly s3Endpoint: string | null;
  readonly logLevel: string;
  readonly defaultQuotaBytes: number;
  readonly pgPoolSize: number;
  /** Signing secret shared by all nodes; null: generated once and kept in the database. */
  readonly secret: string | null;
  readonly publicUrl: string | null;
  /** Requests a minute per device, per workspace and per address without a token. */
  readonly rateLimits: { devicePerMinute: number; workspacePerMinute: number; addressPerMinute: number };
  /** Days deleted nodes and superseded versions are kept before they are purged. */
  readonly retentionDays: number;
  /** Minutes between retention purges and between blob GC runs (one node at a time); null: never. */
  readonly maintenance: { readonly purgeIntervalMinutes: number | null; readonly gcIntervalMinutes: number | null };
}

/** "device=1200,workspace=6000,address=1200": any subset; the rest keep their defaults. */
const parseRateLimits = (raw: string | undefined): Config['rateLimits'] => {
  const limits = { devicePerMinute: 1200, workspacePerMinute: 6000, addressPerMinute: 1200 };
  for (const part of (raw ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`STRATA_RATE_LIMITS: ${part} is not name=positive whole number`);
    if (name === 'device') limits.devicePerMinute = n;
    else if (name === 'workspace') limits.workspacePerMinute = n;
    else if (name === 'address') limits.addressPerMinute = n;
    else throw new ConfigError(`STRATA_RATE_LIMITS: unknown limit ${name} (device, workspace, address)`);
  }
  return limits;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const loadConfig = (env: Record<string, string | undefined>): Config => {
  const decoded = Env.decode(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (E.isLeft(decoded)) throw new ConfigError(`invalid environment: ${PathReporter.report(decoded).join('; ')}`);
  const e = decoded.right;
  if (e.ESDB_URL !== undefined)
    throw new ConfigError('ESDB_URL is set, but the EventStoreDB event log adapter is not available yet: Postgres is the event log of record. Unset ESDB_URL.');
  return {
    port: e.PORT ?? 8080,
    host: e.HOST ?? '0.0.0.0',
    dataDir: path.resolve(e.STRATA_DATA_DIR ?? './data'),
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    s3Endpoint: e.S3_ENDPOINT ?? null,
    logLevel: e.LOG_LEVEL ?? 'info',
    defaultQuotaBytes: e.STRATA_QUOTA_BYTES ?? 10 * 1024 ** 3,
    pgPoolSize: e.STRATA_PG_POOL_SIZE ?? 20,
    secret: e.STRATA_SECRET ?? null,
    publicUrl: e.STRATA_PUBLIC_URL ?? null,
    rateLimits: parseRateLimits(e.STRATA_RATE_LIMITS),
    retentionDays: e.STRATA_RETENTION_DAYS ?? 30,
    // 0 switches a job off.
    maintenance: {
      purgeIntervalMinutes: e.STRATA_PURGE_INTERVAL_MINUTES === 0 ? null : (e.STRATA_PURGE_INTERVAL_MINUTES ?? 5),
      gcIntervalMinutes: e.STRATA_GC_INTERVAL_MINUTES === 0 ? null : (e.STRATA_GC_INTERVAL_MINUTES ?? 6 * 60),
    },
  };
};
