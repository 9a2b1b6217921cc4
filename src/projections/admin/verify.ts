import type pg from 'pg';
import { workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import { copyInBinary } from '../bulk/copyIn.js';
import { WorkspaceFold } from '../bulk/fold.js';
import { loadRanges, rangeBatches } from '../bulk/read.js';
import { CopyBuffers, copyStatement } from '../bulk/rows.js';
import type { Projection } from '../registry.js';
import { ident } from './shadow.js';

export interface ProjectionDifference {
  readonly workspaceId: string;
  readonly table: string;
  /** Rows the projection has that the fold of the log does not. */
  readonly onlyInProjection: number;
  /** Rows the fold of the log has that the projection does not. */
  readonly onlyInLog: number;
}

export interface VerifyProjectionReport {
  readonly workspaces: number;
  readonly events: number;
  readonly differences: readonly ProjectionDifference[];
}

export interface VerifyProjectionOptions {
  readonly liveSchema?: string;
  /** Check this many workspaces picked at random instead of all. */
  readonly sample?: number;
  /** Workspaces folded and compared together. */
  readonly batchEvents?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Compares a projection's rows with a fresh fold of the log, workspace by workspace, inside one
 * REPEATABLE READ snapshot: the inline projection commits with its events, so in one snapshot the
 * two must be equal row for row. The fold's rows go to temporary tables shaped like the live ones
 * and the comparison is EXCEPT ALL both ways, per workspace.
 */
export const verifyProjection = async (pool: pg.Pool, projection: Projection, options: VerifyProjectionOptions = {}): Promise<VerifyProjectionReport> => {
  if (projection.name !== 'tree') throw new Error(`no fold to verify projection ${projection.name} against`);
  const live = ident(options.liveSchema ?? 'rm');
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    for (const t of projection.tables)
      await client.query(`CREATE TEMP TABLE verify_${ident(t)} (LIKE ${live}.${ident(t)} INCLUDING DEFAULTS) ON COMMIT DROP`);
    // Workspaces the log knows and workspaces the projection has (a row without a stream is a difference too).
    const { rows: streams } = await client.query<{ workspace_id: string; version: string }>(
      `SELECT workspace_id, max(version) AS version FROM (
         SELECT substr(stream_id, 11) AS workspace_id, version FROM es_streams WHERE starts_with(stream_id, 'workspace-')
         UNION ALL SELECT workspace_id, 0 FROM ${live}.workspaces) w
       GROUP BY workspace_id ORDER BY ${options.sample === undefined ? 'workspace_id' : 'random()'} ${options.sample === undefined ? '' : 'LIMIT $1'}`,
      options.sample === undefined ? [] : [options.sample],
    );
    const differences: ProjectionDifference[] = [];
    let events = 0;
    let done = 0;
    const compare = async (folds: readonly WorkspaceFold[]) => {
      const buffers = new CopyBuffers();
      for (const f of folds) buffers.add(f.rows());
      for (const [table, chunks] of buffers.take())
        await copyInBinary(client, copyStatement('pg_temp', table, 'verify_'), chunks);
      const ids = folds.map((f) => f.workspaceId);
      for (const t of projection.tables) {
        const { rows } = await client.query<{ workspace_id: string; only_p: string; only_l: string }>(
          `SELECT workspace_id, count(*) FILTER (WHERE side = 'p') AS only_p, count(*) FILTER (WHERE side = 'l') AS only_l FROM (
             SELECT 'p' AS side, x.workspace_id FROM (SELECT * FROM ${live}.${ident(t)} WHERE workspace_id = ANY($1::text[]) EXCEPT ALL SELECT * FROM verify_${ident(t)}) x
             UNION ALL
             SELECT 'l', y.workspace_id FROM (SELECT * FROM verify_${ident(t)} EXCEPT ALL SELECT * FROM ${live}.${ident(t)} WHERE workspace_id = ANY($1::text[])) y
           ) d GROUP BY workspace_id ORDER BY workspace_id`,
          [ids],
        );
        for (const r of rows) differences.push({ workspaceId: r.workspace_id, table: t, onlyInProjection: Number(r.only_p), onlyInLog: Number(r.only_l) });
        await client.query(`TRUNCATE verify_${ident(t)}`);
      }
      done += folds.length;
      options.onProgress?.(done, streams.length);
    };
    const folds = new Map<string, WorkspaceFold>();
    for (const s of streams) folds.set(workspaceStreamId(s.workspace_id), new WorkspaceFold(s.workspace_id));
    const batchEvents = options.batchEvents ?? 5000;
    const list = streams.map((s) => ({ streamId: workspaceStreamId(s.workspace_id), version: Number(s.version) }));
    const versionOf = new Map(list.map((s) => [s.streamId, s.version]));
    let pending: WorkspaceFold[] = list.filter((s) => s.version === 0).map((s) => folds.get(s.streamId) as WorkspaceFold);
    let pendingEvents = 0;
    for (const batch of rangeBatches(list, batchEvents)) {
      for (const e of await loadRanges(client, batch)) (folds.get(e.streamId) as WorkspaceFold).apply(e);
      // A workspace is compared once its last range is folded (a long stream spans several batches).
      for (const r of batch) {
        const version = versionOf.get(r.streamId) ?? 0;
        if (r.upTo < version) continue;
        pending.push(folds.get(r.streamId) as WorkspaceFold);
        folds.delete(r.streamId);
        pendingEvents += version;
        events += version;
      }
      if (pendingEvents >= batchEvents) {
        await compare(pending);
        pending = [];
        pendingEvents = 0;
      }
    }
    if (pending.length > 0) await compare(pending);
    await client.query('COMMIT');
    return { workspaces: streams.length, events, differences };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
};
