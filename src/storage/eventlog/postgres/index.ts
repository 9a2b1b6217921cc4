import type pg from 'pg';
import type { EventSchema } from '../decode.js';
import type { EventLog } from '../port.js';
import { inTransaction } from '../../postgres/transaction.js';
import { appendInTransaction } from './append.js';
import { readAll, readStream, streamVersion } from './read.js';

/** The event log of record, in Postgres (tables from migration 001). */
export const createPostgresEventLog = <Ev extends { type: string; data: unknown }>(
  pool: pg.Pool,
  schema: EventSchema<Ev>,
): EventLog<Ev> => ({
  append: async (streamId, expectedVersion, events) => {
    const stored = await inTransaction(pool, (client) => appendInTransaction(client, streamId, expectedVersion, events));
    return { events: stored, version: expectedVersion + stored.length };
  },
  readStream: (streamId, afterVersion, limit) => readStream(pool, schema, streamId, afterVersion, limit),
  streamVersion: (streamId) => streamVersion(pool, streamId),
  readAll: (after, limit) => readAll(pool, schema, after, limit),
});
