import { once } from 'node:events';
import pg from 'pg';
import { httpAuditSource } from '../../audit/http.js';
import { postgresAuditSource } from '../../audit/postgres.js';
import type { AuditSource } from '../../audit/source.js';
import { CliError, type CliIo } from '../command.js';

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** The options every audit command takes to reach the history: the database, or the API with a token. */
export const accessOptions = {
  'database-url': { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
} as const;

export const ACCESS_USAGE = '[--database-url URL | --server URL --token TOKEN]';

export const stringOption = (values: Values, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};

export const requiredOption = (values: Values, name: string): string => {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new CliError(`--${name} is required`);
  return v;
};

/** A pool on --database-url or DATABASE_URL (operators' and auditors' access), or a refusal saying how to give one. */
export const databasePool = (values: Values, io: CliIo, max = 4): pg.Pool => {
  const url = stringOption(values, 'database-url') ?? io.env.DATABASE_URL;
  if (url === undefined || url === '') throw new CliError('give --database-url or set DATABASE_URL');
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'strata-cli' });
  pool.on('error', () => undefined);
  return pool;
};

/** Where an audit command reads: the API when --server is given (with --token), else the database. */
export const auditSource = (values: Values, io: CliIo): AuditSource => {
  const server = stringOption(values, 'server');
  if (server !== undefined) {
    const token = stringOption(values, 'token') ?? io.env.STRATA_TOKEN;
    if (token === undefined || token === '') throw new CliError('--server needs --token (or STRATA_TOKEN): an access token of a device of the workspace');
    return httpAuditSource(server, token);
  }
  return postgresAuditSource(databasePool(values, io, 2));
};

/** An ISO-8601 time option, or a refusal. */
export const timeOption = (values: Values, name: string): Date | undefined => {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new CliError(`--${name} must be an ISO-8601 time, like 2026-03-01T12:00:00Z`);
  return new Date(ms);
};

/** Writes a line, waiting when the output is full: a slow reader slows the producer instead of filling memory. */
export const writeLine = async (out: NodeJS.WritableStream, line: string): Promise<void> => {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
};
