import pg from 'pg';
import type { Logger } from 'pino';

/**
 * A connection pool. Idle connections can be cut by the server (restart, failover); pg emits that
 * on the pool, and an unheard 'error' event would crash the process, so it is logged instead.
 */
export const createPool = (url: string, max: number, logger: Logger): pg.Pool => {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'strata' });
  pool.on('error', (err) => {
    // While the pool ends (shutdown), a server going away with it is expected, not news.
    if (pool.ending) return;
    // The error carries its pg client (config, statements): the message and the code say enough.
    logger.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'idle Postgres connection lost');
  });
  return pool;
};
