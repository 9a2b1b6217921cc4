import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { AuditHttpError, httpAuditSource } from '../../audit/http.js';
import { postgresAuditSource } from '../../audit/postgres.js';
import type { AuditSource } from '../../audit/source.js';
import { EMBEDDED_DATABASE } from '../../storage/postgres/embeddedDatabase.js';
import { CliError, type CliCommand, type CliIo } from '../command.js';

type Values = Readonly<Record<string, unknown>>;

/**
 * Exit codes of the audit and admin commands, so a script can tell a verdict from a failure to reach
 * one: 1 is "checked, and it is not right" (an altered history, a projection that differs from the
 * log, no such workspace), never "could not check".
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 4 } as const;

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


/**
 * The URL of the embedded Postgres that a server started without DATABASE_URL runs on dataDir
 * (src/storage/postgres/embedded.ts: the cluster in dataDir/pg on a port picked at start, the password
 * in dataDir/pg-password), or null when there is none. The port is read from the cluster's
 * postmaster.pid (its fourth line), which exists while that Postgres runs.
 */
export const embeddedDatabaseUrl = (dataDir: string): string | null => {
  let pidFile: string;
  let password: string;
  try {
    pidFile = fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
    password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  } catch {
    return null;
  }
  const port = Number(pidFile.split('\n')[3]);
  if (!Number.isSafeInteger(port) || port <= 0) return null;
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
};

/**
 * The service's database: --database-url, else DATABASE_URL, else the embedded Postgres of a server
 * running on STRATA_DATA_DIR (./data), as `npm start` runs it; or a refusal saying how to give one.
 */
export const databaseUrl = (values: Values, io: CliIo, alternative = ''): string => {
  const given = stringOption(values, 'database-url') ?? io.env.DATABASE_URL;
  if (given !== undefined && given !== '') return given;
  const dataDir = path.resolve(io.env.STRATA_DATA_DIR || './data');
  const embedded = embeddedDatabaseUrl(dataDir);
  if (embedded !== null) return embedded;
  throw new CliError(
    `no database: give --database-url or set DATABASE_URL, or run this where the server's embedded Postgres runs (STRATA_DATA_DIR, here ${dataDir})${alternative}`,
  );
};

/** A pool on the service's database (see databaseUrl). */
export const databasePool = (values: Values, io: CliIo, max = 4, alternative = ''): pg.Pool => {
  const pool = new pg.Pool({ connectionString: databaseUrl(values, io, alternative), max, application_name: 'strata-cli' });
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
  return postgresAuditSource(databasePool(values, io, 2, ', or read through the API: --server URL --token TOKEN'));
};

/** An ISO-8601 time option, or a refusal. */
export const timeOption = (values: Values, name: string): Date | undefined => {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new CliError(`--${name} must be an ISO-8601 time, like 2026-03-01T12:00:00Z`);
  return new Date(ms);
};

/** The reader of the output went away (`strata audit log | head`): nothing more to write, and not a failure. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
}

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

export interface LineOutput {
  /** Writes a line, waiting when the output is full: a slow reader slows the producer instead of filling memory. */
  line(text: string): Promise<void>;
}

/** Lines to `out`; once its reader is gone (EPIPE), every write throws OutputClosed. */
export const lineOutput = (out: NodeJS.WritableStream): LineOutput => {
  let failure: unknown = null;
  const waiting = new Set<() => void>();
  // Kept for the stream's life: an EPIPE may arrive after the last write, and unheard it would crash the process.
  out.on('error', (e: unknown) => {
    failure ??= e;
    for (const wake of waiting) wake();
  });
  const check = () => {
    if (failure !== null) throw codeOf(failure) === 'EPIPE' ? new OutputClosed('the output was closed') : failure;
  };
  return {
    line: async (text) => {
      check();
      if (!out.write(`${text}\n`))
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiting.delete(wake);
            out.removeListener('drain', wake);
            resolve();
          };
          waiting.add(wake);
          out.on('drain', wake);
        });
      check();
    },
  };
};

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether an error is a failure to reach the database or server ('unreachable': a network error, also
 * as the cause of fetch's "fetch failed", a Postgres connection error or one starting up) or to be let
 * in ('refused': a Postgres authentication error or an unknown database), or neither (null).
 */
export const accessFailure = (e: unknown): 'unreachable' | 'refused' | null => {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const code = codeOf(x);
    if (code !== undefined && (NETWORK.has(code) || code.startsWith('08') || code === '57P03')) return 'unreachable';
    if (code !== undefined && (code.startsWith('28') || code === '3D000')) return 'refused';
    // fetch's own wrapper for every failure to get an answer (its cause says which).
    if (x instanceof TypeError && x.message === 'fetch failed') return 'unreachable';
    if (x instanceof AggregateError) for (const inner of x.errors as unknown[]) if (accessFailure(inner) !== null) return accessFailure(inner);
  }
  return null;
};

const messageOf = (e: unknown): string => {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    if (x.message !== '' && !parts.includes(x.message)) parts.push(x.message);
    if (x instanceof AggregateError) for (const inner of x.errors as unknown[]) if (inner instanceof Error && !parts.includes(inner.message)) parts.push(inner.message);
  }
  return parts.join(': ') || String(e);
};

/** Failures to reach the database or server, or to be let in, as CliErrors with their exit codes (4, 2); others pass through. */
export const explainAccess = (e: unknown): unknown => {
  if (e instanceof CliError) return e;
  if (e instanceof AuditHttpError) return new CliError(`the server refused: ${e.message}`, e.status >= 500 ? EXIT.unreachable : EXIT.usage);
  const failure = accessFailure(e);
  if (failure === 'unreachable') return new CliError(`cannot reach the database or server: ${messageOf(e)}`, EXIT.unreachable);
  if (failure === 'refused') return new CliError(`the database refused: ${messageOf(e)}`, EXIT.usage);
  return e;
};

/** A command's run with its access failures explained (exit 4 or 2, never the verdict's 1) and a closed output taken as the end. */
export const guarded =
  (run: CliCommand['run']): CliCommand['run'] =>
  async (args, io) => {
    try {
      return await run(args, io);
    } catch (e) {
      if (e instanceof OutputClosed) return EXIT.ok;
      throw explainAccess(e);
    }
  };
