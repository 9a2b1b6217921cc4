import type pg from 'pg';
import { pgErrorCode } from '../../storage/postgres/transaction.js';
import { bulkBuildTree } from '../bulk/build.js';
import type { Projection } from '../registry.js';
import { applyLagging, laggingStreams } from './catchUp.js';
import { addLiveIndexes, addLiveTriggers, analyzeShadow, createBareShadow, ident } from './shadow.js';

export type RebuildPhase = 'build' | 'indexes' | 'catch-up' | 'switch' | 'done';

export interface RebuildProgress {
  readonly phase: RebuildPhase;
  /** Events folded so far (build), or applied so far (catch-up, switch). */
  readonly events: number;
  /** The log's workspace events when the rebuild started (the build's total). */
  readonly total: number;
}

export interface LiveRebuildOptions {
  readonly liveSchema?: string;
  readonly onProgress?: (p: RebuildProgress) => void;
  /** Aborting stops the rebuild where it is; the live tables keep serving, and a new rebuild starts over. */
  readonly signal?: AbortSignal;
  /** How long the switch may wait for a lock before it rolls back and tries again. */
  readonly lockTimeoutMs?: number;
  readonly switchAttempts?: number;
  /** Switch once at most this many events are left to catch up (they are applied under the lock). */
  readonly switchBelow?: number;
  /**
   * Called inside the switch's transaction: 'paused' once writers wait and the new tables hold the
   * whole log, 'swapped' once the tables have traded places, before the commit (tests read the
   * service here).
   */
  readonly whileSwitching?: (stage: 'paused' | 'swapped') => Promise<void>;
}

export interface LiveRebuildResult {
  readonly built: number;
  readonly caughtUp: number;
  /** Events applied while writers were paused, and how long they were. */
  readonly appliedInSwitch: number;
  readonly switchMs: number;
  readonly seconds: number;
}

// Any fixed int4 (the advisory lock key space with a second, per-projection key): one rebuild per
// projection at a time, across all processes on the database.
const REBUILD_LOCK = 734_201;

const aborted = (signal: AbortSignal | undefined): void => {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('rebuild aborted');
};

/**
 * Rebuilds a projection's tables from the log without stopping the service:
 *
 * 1. build: the whole log is folded into fresh tables in a shadow schema (bulk/build.ts), while the
 *    live tables keep serving reads and taking the inline writes of every commit;
 * 2. indexes: the live tables' indexes and constraints are on the shadow tables, under the same
 *    names: those led by workspace_id from the start (rows arrive workspace by workspace), the
 *    others built once the rows are in; then the live tables' triggers;
 * 3. catch-up: what was committed meanwhile is applied stream by stream, with the projection's own
 *    per-event statements, until little is left;
 * 4. switch, in one transaction: writers are paused (LOCK es_streams IN EXCLUSIVE MODE: every command
 *    locks its stream row first, and readers are not blocked), the last events are applied, no stream
 *    may be left with events the new tables lack, and the tables trade places with ALTER TABLE ... SET
 *    SCHEMA (live ones to a retired schema, shadow ones into the live schema, keeping every index
 *    and constraint name). Tables move rather than the whole schema, so other tables living in it
 *    are untouched. Sessions' prepared statements name tables by schema and name: Postgres
 *    invalidates their plans on the DDL and re-resolves the names on their next use (a test holds
 *    a live gateway to that). A lock that does not come within lockTimeoutMs rolls the switch back
 *    and it is tried again, so a long reader cannot stall the service behind it for long.
 *
 * A crash or abort before the switch leaves the live tables as they were (the shadow is dropped by
 * the next rebuild); the switch is one transaction; after it, only the retired tables remain to drop.
 */
export const rebuildLive = async (pool: pg.Pool, projection: Projection, options: LiveRebuildOptions = {}): Promise<LiveRebuildResult> => {
  if (projection.name !== 'tree') throw new Error(`no bulk rebuild for projection ${projection.name}`);
  const started = performance.now();
  const live = ident(options.liveSchema ?? 'rm');
  const shadow = `${live}_rebuild_${projection.name}`;
  const retired = `${live}_retired_${projection.name}`;
  const report = (phase: RebuildPhase, events: number, total: number) => options.onProgress?.({ phase, events, total });
  const session = await pool.connect();
  try {
    const { rows } = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [REBUILD_LOCK, `${live}.${projection.name}`]);
    if (rows[0]?.ok !== true) throw new Error(`a rebuild of ${projection.name} is already running`);
    try {
      const totals = await session.query<{ total: string | null }>(`SELECT sum(version) AS total FROM es_streams WHERE starts_with(stream_id, 'workspace-')`);
      const total = Number(totals.rows[0]?.total ?? 0);
      await session.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE`);
      await createBareShadow(session, projection, live, shadow);
      await addLiveIndexes(session, projection, live, shadow, 'ordered');

      report('build', 0, total);
      const built = await bulkBuildTree(pool, shadow, {
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (events) => report('build', events, total),
      });
      aborted(options.signal);

      report('indexes', built.events, total);
      await session.query(`SET maintenance_work_mem = '256MB'`);
      try {
        await addLiveIndexes(session, projection, live, shadow, 'unordered');
      } finally {
        await session.query('RESET maintenance_work_mem');
      }
      await analyzeShadow(session, projection, shadow);
      await addLiveTriggers(session, projection, live, shadow);

      let caughtUp = 0;
      for (let round = 0; round < 20; round++) {
        aborted(options.signal);
        const lagging = await laggingStreams(session, shadow);
        const left = lagging.reduce((sum, s) => sum + s.version - s.applied, 0);
        if (left <= (options.switchBelow ?? 500)) break;
        await session.query('BEGIN');
        try {
          caughtUp += await applyLagging(session, projection, shadow, lagging);
          await session.query('COMMIT');
        } catch (e) {
          await session.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        report('catch-up', caughtUp, total);
      }

      aborted(options.signal);
      report('switch', 0, total);
      const switched = await switchTables(session, projection, { live, shadow, retired }, options);
      report('switch', switched.applied, total);
      await session.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE`);
      await session.query(`DROP SCHEMA IF EXISTS ${shadow} CASCADE`);
      const result = { built: built.events, caughtUp, appliedInSwitch: switched.applied, switchMs: switched.ms, seconds: (performance.now() - started) / 1000 };
      report('done', built.events + caughtUp + switched.applied, total);
      return result;
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [REBUILD_LOCK, `${live}.${projection.name}`]).catch(() => undefined);
    }
  } finally {
    session.release();
  }
};

const switchTables = async (
  client: pg.ClientBase,
  projection: Projection,
  schemas: { live: string; shadow: string; retired: string },
  options: LiveRebuildOptions,
): Promise<{ applied: number; ms: number }> => {
  const { live, shadow, retired } = schemas;
  const attempts = options.switchAttempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs ?? 2000))}`);
      await client.query('LOCK TABLE es_streams IN EXCLUSIVE MODE');
      await client.query(`LOCK TABLE ${projection.tables.map((t) => `${live}.${ident(t)}`).join(', ')} IN EXCLUSIVE MODE`);
      const applied = await applyLagging(client, projection, shadow, await laggingStreams(client, shadow));
      // Writers are paused: the log cannot move, so the new tables must have applied all of it.
      const left = await laggingStreams(client, shadow);
      if (left.length > 0) throw new Error(`the rebuilt tables still lack events of ${left.length} streams (first: ${left[0]?.streamId}); nothing was switched`);
      await options.whileSwitching?.('paused');
      await client.query(`CREATE SCHEMA ${retired}`);
      for (const t of projection.tables) await client.query(`ALTER TABLE ${live}.${ident(t)} SET SCHEMA ${retired}`);
      for (const t of projection.tables) await client.query(`ALTER TABLE ${shadow}.${ident(t)} SET SCHEMA ${live}`);
      await options.whileSwitching?.('swapped');
      await client.query('COMMIT');
      return { applied, ms: performance.now() - t0 };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      // 55P03: lock_timeout, 40P01: chosen as a deadlock victim. Both leave everything as it was.
      const code = pgErrorCode(e);
      if ((code !== '55P03' && code !== '40P01') || attempt >= attempts) throw e;
      aborted(options.signal);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
};
