import type pg from 'pg';
import type { Migration } from './migrations/migration.js';
import { migrations as all } from './migrations/index.js';

// Any fixed 64-bit number: the advisory lock that lets many server processes start at once.
const MIGRATION_LOCK = 7_342_001_337;

export interface MigrationReport {
  readonly applied: readonly number[];
  readonly current: number;
}

/**
 * Brings the schema up to date, each migration in its own transaction, under an advisory lock so
 * that several processes starting together apply each migration exactly once.
 */
export const migrate = async (pool: pg.Pool, migrations: readonly Migration[] = all): Promise<MigrationReport> => {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1..n without gaps; found ${m.version} at ${i + 1}`);
  });
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > ordered.length)
      throw new Error(`database schema is at version ${newest}, newer than this build knows (${ordered.length}); refusing to run`);
    const applied: number[] = [];
    for (const m of ordered) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
      applied.push(m.version);
    }
    return { applied, current: ordered.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
};
