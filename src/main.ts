import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from './config/env.js';
import { createMetrics } from './gateway/metrics.js';
import { buildServer } from './gateway/server.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './storage/postgres/embedded.js';
import { migrate } from './storage/postgres/migrate.js';
import { createPool } from './storage/postgres/pool.js';

export interface RunningStrata {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts everything a Strata node needs; close() stops it in reverse order. */
export const startStrata = async (config: Config, logger = pino({ level: config.logLevel })): Promise<RunningStrata> => {
  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === null) {
    logger.info({ dataDir: config.dataDir }, 'no DATABASE_URL: starting embedded Postgres');
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.dataDir, 'pg'),
      port: 0,
      database: 'strata',
      onLog: (line) => logger.debug({ postgres: line.trim() }),
    });
    databaseUrl = embedded.url;
  }
  const pool = createPool(databaseUrl, config.pgPoolSize, logger);
  const migrated = await migrate(pool);
  logger.info({ applied: migrated.applied, schemaVersion: migrated.current }, 'schema up to date');

  const metrics = createMetrics();
  const app = buildServer({
    logger,
    metrics,
    readiness: [{ name: 'database', check: async () => void (await pool.query('SELECT 1')) }],
  });
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url }, 'strata is listening');
  return {
    url,
    close: async () => {
      await app.close();
      await pool.end();
      await embedded?.stop();
    },
  };
};

const main = async (): Promise<void> => {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel });
  const running = await startStrata(config, logger);
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
};

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((err: unknown) => {
    console.error(JSON.stringify({ level: 'fatal', msg: 'strata failed to start', err: err instanceof Error ? err.message : String(err) }));
    process.exit(1);
  });
}
