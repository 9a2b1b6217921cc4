import pg from 'pg';
import type { Logger } from 'pino';

/**
 * A connection pool. Idle connections can be cut by the server (restart, failover); pg emits that
 * on the pool, and an unheard 'error' event would crash the process, so it is logged instead.
 */
export const createPool = (url: string, max: number, logger: Logger): pg.Pool => {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'strata' });
  pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection lost'));
  return pool;
};
