import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from './config/env.js';
import { startGateway } from './gateway/compose.js';
import { blobStoreFromEnv } from './storage/blobs/fromEnv.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './storage/postgres/embedded.js';
import { EMBEDDED_DATABASE } from './storage/postgres/embeddedDatabase.js';
import { migrate } from './storage/postgres/migrate.js';
import { createPool } from './storage/postgres/pool.js';
import { sharedSecret } from './storage/postgres/sharedSecret.js';

export interface RunningStrata {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts everything a Strata node needs; close() stops it in reverse order. */
export const startStrata = async (
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  logger = pino({ level: config.logLevel }),
): Promise<RunningStrata> => {
  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === null) {
    logger.info({ dataDir: config.dataDir }, 'no DATABASE_URL: starting embedded Postgres');
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.dataDir, 'pg'),
      port: 0,
      database: EMBEDDED_DATABASE,
      onLog: (line) => logger.debug({ postgres: line.trim() }),
    });
    databaseUrl = embedded.url;
  }
  const pool = createPool(databaseUrl, config.pgPoolSize, logger);
  const migrated = await migrate(pool);
  logger.info({ applied: migrated.applied, schemaVersion: migrated.current }, 'schema up to date');
  const blobs = await blobStoreFromEnv(env, config.dataDir, pool);
  const gateway = await startGateway(
    {
      pool,
      logger,
      blobs,
      redisUrl: config.redisUrl,
      settings: {
        publicUrl: config.publicUrl,
        defaultQuotaBytes: config.defaultQuotaBytes,
        secret: await sharedSecret(pool, config.secret),
        accessTokenTtlSeconds: 15 * 60,
        transferUrlTtlSeconds: 10 * 60,
        rateLimits: config.rateLimits,
        retentionDays: config.retentionDays,
        maintenance: {
          purgeIntervalMs: config.maintenance.purgeIntervalMinutes === null ? null : config.maintenance.purgeIntervalMinutes * 60_000,
          gcIntervalMs: config.maintenance.gcIntervalMinutes === null ? null : config.maintenance.gcIntervalMinutes * 60_000,
        },
      },
    },
    { port: config.port, host: config.host },
  );
  logger.info({ url: gateway.url }, 'strata is listening');
  return {
    url: gateway.url,
    close: async () => {
      await gateway.close();
      blobs.circuit.shutdown();
      await pool.end();
      await embedded?.stop();
    },
  };
};

const main = async (): Promise<void> => {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel });
  const running = await startStrata(config, process.env, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGHUP'));
};

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((err: unknown) => {
    console.error(JSON.stringify({ level: 'fatal', msg: 'strata failed to start', err: err instanceof Error ? err.message : String(err) }));
    process.exit(1);
  });
}
