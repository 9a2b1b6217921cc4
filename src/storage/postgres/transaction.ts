import type pg from 'pg';

/** Runs fn in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws. */
export const inTransaction = async <T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
};

/** Postgres error code of a failed query, if it is one. */
export const pgErrorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

export const pgConstraint = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { constraint?: unknown }).constraint === 'string'
    ? (e as { constraint: string }).constraint
    : undefined;
