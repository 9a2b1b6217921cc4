import type pg from 'pg';
import { projections } from '../registry.js';
import { laggingStreams } from './catchUp.js';

export interface ProjectionStatus {
  readonly name: string;
  /** inline: applied in each append's transaction; checkpointed: fed from the whole log (projection_checkpoints). */
  readonly mode: 'inline' | 'checkpointed';
  /** Global log position up to which every event is applied. */
  readonly checkpoint: number;
  /** The newest event's global position. */
  readonly newest: number;
  /** Events in the log not applied yet. */
  readonly lag: number;
  /** Workspaces with events not applied yet (inline projections). */
  readonly laggingWorkspaces: number;
}

/**
 * Each projection's checkpoint and lag. For the inline tree projection, lag is every stream's
 * version against its workspace row's cursor; the checkpoint is the global position just before the
 * oldest unapplied event (the newest position when none is). Projections fed from the whole log
 * report their stored checkpoint and the events after it.
 */
export const projectionStatuses = async (pool: pg.Pool, liveSchema = 'rm'): Promise<ProjectionStatus[]> => {
  const newest = Number((await pool.query<{ p: string | null }>('SELECT max(global_position) AS p FROM es_events')).rows[0]?.p ?? 0);
  const out: ProjectionStatus[] = [];
  for (const p of projections) {
    // Every registered projection is inline and keyed by workspace like the tree (its workspaces row carries the cursor).
    const lagging = await laggingStreams(pool, liveSchema);
    const lag = lagging.reduce((sum, s) => sum + s.version - s.applied, 0);
    let checkpoint = newest;
    if (lagging.length > 0) {
      const { rows } = await pool.query<{ p: string | null }>(
        `SELECT min(e.global_position) AS p FROM unnest($1::text[], $2::bigint[]) AS l(stream_id, next_version)
         JOIN es_events e ON e.stream_id = l.stream_id AND e.stream_version = l.next_version`,
        [lagging.map((s) => s.streamId), lagging.map((s) => s.applied + 1)],
      );
      checkpoint = Number(rows[0]?.p ?? newest + 1) - 1;
    }
    out.push({ name: p.name, mode: 'inline', checkpoint, newest, lag, laggingWorkspaces: lagging.length });
  }
  const { rows } = await pool.query<{ projection: string; global_position: string; lag: string }>(
    `SELECT c.projection, c.global_position,
            (SELECT count(*) FROM es_events e WHERE (e.tx_id, e.global_position) > (c.tx_id, c.global_position)) AS lag
     FROM projection_checkpoints c ORDER BY c.projection`,
  );
  for (const r of rows)
    out.push({ name: r.projection, mode: 'checkpointed', checkpoint: Number(r.global_position), newest, lag: Number(r.lag), laggingWorkspaces: 0 });
  return out;
};
