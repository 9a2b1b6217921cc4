import pino from 'pino';
import type pg from 'pg';
import { CliError, type CliIo } from '../command.js';
import { createPool } from '../../storage/postgres/pool.js';
import { databaseUrl } from './audit-access.js';

/** The --database-url option of admin commands. */
export const databaseOption = { 'database-url': { type: 'string' } } as const;

/**
 * Runs fn with a small pool on the service's database (--database-url, else DATABASE_URL, else the
 * embedded Postgres of a server on STRATA_DATA_DIR: see databaseUrl); always closes it.
 */
export const withDatabase = async <T>(io: CliIo, values: Record<string, unknown>, fn: (pool: pg.Pool) => Promise<T>): Promise<T> => {
  const pool = createPool(databaseUrl(values, io), 4, pino({ level: 'silent' }));
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
};

/** A whole number option, or its default. */
export const wholeNumber = (values: Record<string, unknown>, name: string, fallback: number): number => {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isNaN(n)) throw new CliError(`--${name} must be a whole number, got ${String(raw)}`);
  return n;
};

