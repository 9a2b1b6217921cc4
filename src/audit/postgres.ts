import type pg from 'pg';
import { workspaceStreamId } from '../storage/eventlog/workspaceSchema.js';
import type { AuditSource, ChainHead, ChainedEvent } from './source.js';

type Queryable = pg.Pool | pg.ClientBase;

/** The stream head of a workspace from es_streams, or null when it has no stream. */
export const chainHead = async (db: Queryable, workspaceId: string): Promise<ChainHead | null> => {
  const { rows } = await db.query<{ version: string; head_hash: string }>({
    name: 'audit_head',
    text: `SELECT version, encode(head_hash, 'hex') AS head_hash FROM es_streams WHERE stream_id = $1`,
    values: [workspaceStreamId(workspaceId)],
  });
  const row = rows[0];
  return row ? { cursor: Number(row.version), headHash: row.head_hash } : null;
};

/** Stored events of a workspace after a version, with their hashes, as stored (no upcasting: the hash covers the stored form). */
export const chainedEvents = async (db: Queryable, workspaceId: string, after: number, limit: number): Promise<ChainedEvent[]> => {
  const { rows } = await db.query<{
    stream_id: string; stream_version: string; event_id: string; type: string; schema_version: number; data: unknown; metadata: unknown; hash: string;
  }>({
    name: 'audit_chained',
    text: `SELECT stream_id, stream_version, event_id::text AS event_id, type, schema_version, data, metadata, encode(hash, 'hex') AS hash
           FROM es_events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version LIMIT $3`,
    values: [workspaceStreamId(workspaceId), after, limit],
  });
  return rows.map((r) => ({
    streamId: r.stream_id, version: Number(r.stream_version), eventId: r.event_id, type: r.type,
    schemaVersion: r.schema_version, data: r.data, metadata: r.metadata, hash: r.hash,
  }));
};

/** Audit reads straight from the log: operators' and auditors' access with the database URL. */
export const postgresAuditSource = (pool: pg.Pool, ownsPool = true): AuditSource => ({
  head: (workspaceId) => chainHead(pool, workspaceId),
  chained: (workspaceId, after, limit) => chainedEvents(pool, workspaceId, after, limit),
  close: async () => {
    if (ownsPool) await pool.end();
  },
});
