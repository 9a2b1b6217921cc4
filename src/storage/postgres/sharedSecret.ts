import crypto from 'node:crypto';
import type pg from 'pg';

/**
 * The service's signing secret. STRATA_SECRET wins; otherwise the first node to start generates one
 * and stores it in the database, so every node on that database signs and verifies alike.
 */
export const sharedSecret = async (pool: pg.Pool, fromEnv: string | null): Promise<Buffer> => {
  if (fromEnv !== null) return Buffer.from(fromEnv, 'utf8');
  await pool.query(`INSERT INTO server_settings (key, value) VALUES ('signing_secret', $1) ON CONFLICT (key) DO NOTHING`, [
    crypto.randomBytes(32).toString('base64'),
  ]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM server_settings WHERE key = 'signing_secret'`);
  return Buffer.from(rows[0]?.value ?? '', 'base64');
};
