import type pg from 'pg';
import { prepared } from '../../postgres/prepared.js';
import { ConcurrencyError } from '../errors.js';
import type { NewEvent, StoredEvent } from '../types.js';

// One round trip: move the stream's version only if it is still where the writer saw it, and insert
// the events in the same statement. No row back means someone else moved it first.
const appendToExisting = `
  WITH moved AS (
    UPDATE es_streams SET version = $2::bigint + $3::bigint WHERE stream_id = $1 AND version = $2::bigint RETURNING stream_id
  )
  INSERT INTO es_events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
  SELECT $1, $2::bigint + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata
  FROM moved, unnest($4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
    WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
  RETURNING global_position, tx_id::text AS tx_id, stream_version`;

const appendToNew = appendToExisting.replace(
  'UPDATE es_streams SET version = $2::bigint + $3::bigint WHERE stream_id = $1 AND version = $2::bigint RETURNING stream_id',
  'INSERT INTO es_streams (stream_id, version) SELECT $1, $2::bigint + $3::bigint WHERE $2::bigint = 0 ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id',
);

const toExisting = prepared('es_append_existing', appendToExisting);
const toNew = prepared('es_append_new', appendToNew);

/**
 * Appends events to a stream inside the caller's transaction, if the stream is at expectedVersion.
 * Throws ConcurrencyError otherwise; the caller's transaction should then be rolled back.
 */
export const appendInTransaction = async <Ev extends { type: string; data: unknown }>(
  client: pg.ClientBase,
  streamId: string,
  expectedVersion: number,
  events: readonly NewEvent<Ev>[],
): Promise<StoredEvent<Ev>[]> => {
  if (events.length === 0) return [];
  const result = await client.query<{ global_position: string; tx_id: string; stream_version: string }>((expectedVersion === 0 ? toNew : toExisting)([
    streamId,
    expectedVersion,
    events.length,
    events.map((e) => e.eventId),
    events.map((e) => e.event.type),
    events.map((e) => e.schemaVersion),
    events.map((e) => JSON.stringify(e.event.data)),
    events.map((e) => JSON.stringify(e.metadata)),
  ]));
  if (result.rowCount !== events.length) throw new ConcurrencyError(streamId, expectedVersion);
  // The events were valid when built; no need to decode what was just written.
  return result.rows
    .map((row) => {
      const version = Number(row.stream_version);
      const e = events[version - expectedVersion - 1] as NewEvent<Ev>;
      return {
        streamId,
        version,
        eventId: e.eventId,
        event: e.event,
        metadata: e.metadata,
        position: { txId: BigInt(row.tx_id), globalPosition: BigInt(row.global_position) },
      };
    })
    .sort((a, b) => a.version - b.version);
};
