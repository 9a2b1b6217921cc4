import type pg from 'pg';
import { readStream } from '../../storage/eventlog/postgres/read.js';
import { workspaceEventSchema } from '../../storage/eventlog/workspaceSchema.js';
import type { Projection } from '../registry.js';
import { ident } from './shadow.js';

type Queryable = pg.Pool | pg.ClientBase;

export interface LaggingStream {
  readonly streamId: string;
  /** The last stream version the tables have applied. */
  readonly applied: number;
  /** The stream's version in the log. */
  readonly version: number;
}

/**
 * Workspace streams whose events the tree tables in `schema` have not all applied: the stream's
 * version against the workspace row's cursor. Exact whatever transactions are in flight (unlike a
 * global-position checkpoint, which must wait for the oldest open transaction).
 */
export const laggingStreams = async (db: Queryable, schema: string): Promise<LaggingStream[]> => {
  const { rows } = await db.query<{ stream_id: string; applied: string; version: string }>(
    `SELECT s.stream_id, COALESCE(w.cursor, 0) AS applied, s.version
     FROM es_streams s LEFT JOIN ${ident(schema)}.workspaces w ON w.workspace_id = substr(s.stream_id, 11)
     WHERE starts_with(s.stream_id, 'workspace-') AND s.version > COALESCE(w.cursor, 0)
     ORDER BY s.stream_id`,
  );
  return rows.map((r) => ({ streamId: r.stream_id, applied: Number(r.applied), version: Number(r.version) }));
};

/**
 * Applies, with the projection's own per-event statements, the events of the given streams that the
 * tables in `schema` lack. Runs on the caller's client (and inside its transaction, if any).
 * Returns how many events were applied.
 */
export const applyLagging = async (client: pg.ClientBase, projection: Projection, schema: string, streams: readonly LaggingStream[]): Promise<number> => {
  let applied = 0;
  for (const s of streams) {
    for (let after = s.applied; after < s.version; ) {
      const events = await readStream(client, workspaceEventSchema, s.streamId, after, Math.min(1000, s.version - after));
      if (events.length === 0) break;
      for (const e of events) await projection.apply(client, schema, e);
      after = (events[events.length - 1] as (typeof events)[number]).version;
      applied += events.length;
    }
  }
  return applied;
};
