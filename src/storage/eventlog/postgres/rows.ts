import * as E from 'fp-ts/lib/Either.js';
import { type EventSchema, decodeOrReport, decodeStored } from '../decode.js';
import { EventDecodeError } from '../errors.js';
import { EventMetadata, type StoredEvent } from '../types.js';

export interface EventRow {
  readonly global_position: string;
  readonly tx_id: string;
  readonly stream_id: string;
  readonly stream_version: string;
  readonly event_id: string;
  readonly type: string;
  readonly schema_version: number;
  readonly data: unknown;
  readonly metadata: unknown;
}

export const EVENT_COLUMNS =
  'global_position, tx_id::text AS tx_id, stream_id, stream_version, event_id, type, schema_version, data, metadata';

/** Decodes a row at the edge: the data through the schema's upcasters and codec, the metadata by its codec. */
export const rowToEvent = <Ev extends { type: string; data: unknown }>(schema: EventSchema<Ev>, row: EventRow): StoredEvent<Ev> => {
  const where = { streamId: row.stream_id, version: Number(row.stream_version) };
  const metadata = decodeOrReport(EventMetadata, row.metadata);
  if (E.isLeft(metadata)) throw new EventDecodeError(where.streamId, where.version, metadata.left);
  return {
    streamId: row.stream_id,
    version: where.version,
    eventId: row.event_id,
    event: decodeStored(schema, where, row.type, row.schema_version, row.data),
    metadata: metadata.right,
    position: { txId: BigInt(row.tx_id), globalPosition: BigInt(row.global_position) },
  };
};
