import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/storage/postgres/migrate.js';
import { migrations } from '../../../src/storage/postgres/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

describe('schema migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db.drop());

  it('apply each migration exactly once when several processes start together', async () => {
    const reports = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const applied = reports.flatMap((r) => r.applied).sort((a, b) => a - b);
    expect(applied).toEqual(migrations.map((m) => m.version));
    const rows = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });

  it('refuse to run against a schema newer than this build', async () => {
    await db.pool.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')`);
    await expect(migrate(db.pool)).rejects.toThrow(/newer than this build/);
    await db.pool.query('DELETE FROM schema_migrations WHERE version = 999');
  });
});
