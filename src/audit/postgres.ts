import type pg from 'pg';
import { workspaceStreamId } from '../storage/eventlog/workspaceSchema.js';
import type { AuditPeople, AuditSource, ChainHead, ChainedEvent } from './source.js';

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

/** The workspace's users (email) and devices (name), revoked devices included: they made history too. */
export const auditPeople = async (db: Queryable, workspaceId: string): Promise<{ users: { userId: string; email: string }[]; devices: { deviceId: string; name: string }[] }> => {
  const users = await db.query<{ userId: string; email: string }>({
    name: 'audit_users',
    text: 'SELECT user_id AS "userId", email FROM users WHERE workspace_id = $1 ORDER BY user_id',
    values: [workspaceId],
  });
  const devices = await db.query<{ deviceId: string; name: string }>({
    name: 'audit_devices',
    text: 'SELECT device_id AS "deviceId", name FROM devices WHERE workspace_id = $1 ORDER BY device_id',
    values: [workspaceId],
  });
  return { users: users.rows, devices: devices.rows };
};

/** The directory as maps, for naming ids. */
export const peopleMaps = (p: { users: readonly { userId: string; email: string }[]; devices: readonly { deviceId: string; name: string }[] }): AuditPeople => ({
  users: new Map(p.users.map((u) => [u.userId, u.email])),
  devices: new Map(p.devices.map((d) => [d.deviceId, d.name])),
});

/** Audit reads straight from the log: operators' and auditors' access with the database URL. */
export const postgresAuditSource = (pool: pg.Pool, ownsPool = true): AuditSource => ({
  head: (workspaceId) => chainHead(pool, workspaceId),
  chained: (workspaceId, after, limit) => chainedEvents(pool, workspaceId, after, limit),
  people: async (workspaceId) => peopleMaps(await auditPeople(pool, workspaceId)),
  close: async () => {
    if (ownsPool) await pool.end();
  },
});
