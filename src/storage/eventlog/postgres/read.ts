import type pg from 'pg';
import type { EventSchema } from '../decode.js';
import type { LogPosition, StoredEvent } from '../types.js';
import { EVENT_COLUMNS, rowToEvent, type EventRow } from './rows.js';

type Queryable = pg.Pool | pg.ClientBase;

export const readStream = async <Ev extends { type: string; data: unknown }>(
  db: Queryable,
  schema: EventSchema<Ev>,
  streamId: string,
  afterVersion: number,
  limit: number,
): Promise<StoredEvent<Ev>[]> => {
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM es_events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version LIMIT $3`,
    [streamId, afterVersion, limit],
  );
  return rows.map((r) => rowToEvent(schema, r));
};

export const streamVersion = async (db: Queryable, streamId: string): Promise<number> => {
  const { rows } = await db.query<{ version: string }>('SELECT version FROM es_streams WHERE stream_id = $1', [streamId]);
  return rows[0] ? Number(rows[0].version) : 0;
};

/**
 * Events after `after` in (tx_id, global_position) order, but only from transactions older than the
 * oldest one still running (pg_snapshot_xmin): bigserial values are taken at insert time, not at
 * commit, so without that bound a reader could pass a position whose transaction commits later.
 */
export const readAll = async <Ev extends { type: string; data: unknown }>(
  db: Queryable,
  schema: EventSchema<Ev>,
  after: LogPosition,
  limit: number,
): Promise<{ events: StoredEvent<Ev>[]; next: LogPosition }> => {
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM es_events
     WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
       AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY tx_id, global_position
     LIMIT $3`,
    [after.txId.toString(), after.globalPosition.toString(), limit],
  );
  const events = rows.map((r) => rowToEvent(schema, r));
  const last = events[events.length - 1];
  return { events, next: last ? last.position : after };
};
