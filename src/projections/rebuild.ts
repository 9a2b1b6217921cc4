import type pg from 'pg';
import { readAll } from '../storage/eventlog/postgres/read.js';
import { comparePositions, LOG_START, type LogPosition } from '../storage/eventlog/types.js';
import { workspaceEventSchema } from '../storage/eventlog/workspaceSchema.js';
import { inTransaction } from '../storage/postgres/transaction.js';
import type { Projection } from './registry.js';

const IDENT = /^[a-z_][a-z0-9_]*$/;
const ident = (s: string): string => {
  if (!IDENT.test(s)) throw new Error(`invalid identifier ${s}`);
  return s;
};

export interface RebuildProgress {
  readonly events: number;
  readonly position: LogPosition;
}

/** Creates targetSchema with empty tables shaped like the live ones (columns, defaults, checks, indexes). */
export const createShadowTables = async (pool: pg.Pool, projection: Projection, liveSchema: string, targetSchema: string): Promise<void> => {
  const [live, target] = [ident(liveSchema), ident(targetSchema)];
  await inTransaction(pool, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
    await client.query(`CREATE SCHEMA ${target}`);
    for (const table of projection.tables) await client.query(`CREATE TABLE ${target}.${ident(table)} (LIKE ${live}.${ident(table)} INCLUDING ALL)`);
  });
};

/** The newest committed event's place in commit order, as this moment sees it (LOG_START for an empty log). */
export const logHead = async (pool: pg.Pool): Promise<LogPosition> => {
  const { rows } = await pool.query<{ tx_id: string; global_position: string }>(
    'SELECT tx_id::text AS tx_id, global_position FROM es_events ORDER BY tx_id DESC, global_position DESC LIMIT 1',
  );
  const r = rows[0];
  return r ? { txId: BigInt(r.tx_id), globalPosition: BigInt(r.global_position) } : LOG_START;
};

/**
 * Folds the whole log into targetSchema's tables, a page per transaction, and returns the log
 * position reached (a live switch-over catches up from there). It reads at least up to the head
 * the log had when it started: an empty page before that only means a transaction still open
 * somewhere on the server holds newer events back (xmin is cluster-wide), so it waits for them.
 */
export const replayInto = async (
  pool: pg.Pool,
  projection: Projection,
  targetSchema: string,
  from: LogPosition = LOG_START,
  options: { pageSize?: number; onProgress?: (p: RebuildProgress) => void; maxHoldBackMs?: number } = {},
): Promise<RebuildProgress> => {
  const target = ident(targetSchema);
  let position = from;
  let count = 0;
  const head = await logHead(pool);
  const waitUntil = Date.now() + (options.maxHoldBackMs ?? 120_000);
  for (;;) {
    const page = await readAll(pool, workspaceEventSchema, position, options.pageSize ?? 1000);
    if (page.events.length === 0) {
      if (comparePositions(position, head) >= 0) return { events: count, position };
      if (Date.now() > waitUntil)
        throw new Error('the rebuild cannot reach the log head: a long-running transaction on the Postgres server holds events back (see pg_stat_activity)');
      await new Promise((r) => setTimeout(r, 25));
      continue;
    }
    await inTransaction(pool, async (client) => {
      for (const e of page.events) await projection.apply(client, target, e);
    });
    count += page.events.length;
    position = page.next;
    options.onProgress?.({ events: count, position });
  }
};

export interface TableDifference {
  readonly table: string;
  readonly onlyInA: number;
  readonly onlyInB: number;
}

/** Row-for-row comparison of a projection's tables in two schemas; empty when identical. */
export const compareProjectionTables = async (pool: pg.Pool, projection: Projection, a: string, b: string): Promise<TableDifference[]> => {
  const out: TableDifference[] = [];
  for (const table of projection.tables) {
    const t = ident(table);
    const { rows } = await pool.query<{ only_a: string; only_b: string }>(
      `SELECT (SELECT count(*) FROM (SELECT * FROM ${ident(a)}.${t} EXCEPT ALL SELECT * FROM ${ident(b)}.${t}) x) AS only_a,
              (SELECT count(*) FROM (SELECT * FROM ${ident(b)}.${t} EXCEPT ALL SELECT * FROM ${ident(a)}.${t}) y) AS only_b`,
    );
    const r = rows[0];
    if (r && (r.only_a !== '0' || r.only_b !== '0')) out.push({ table, onlyInA: Number(r.only_a), onlyInB: Number(r.only_b) });
  }
  return out;
};
