import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import type { WorkspaceEvent } from '../../domain/workspace/events.js';
import { decodeOrReport, decodeStored } from '../../storage/eventlog/decode.js';
import { EventDecodeError } from '../../storage/eventlog/errors.js';
import { EventActor } from '../../storage/eventlog/types.js';
import { workspaceEventSchema } from '../../storage/eventlog/workspaceSchema.js';

/** What a fold needs of a stored event: where it sits in its stream, the fact, and who/when. */
export interface FoldableEvent {
  readonly streamId: string;
  readonly version: number;
  readonly event: WorkspaceEvent;
  readonly metadata: EventActor;
}

const WORKSPACE_STREAM = 'workspace-';
const PREFETCH = 2;

/** Events after..upTo of one stream. */
export interface Range {
  readonly streamId: string;
  readonly after: number;
  readonly upTo: number;
}

// Of the metadata, only who and when (EventActor), as text: a fold records nothing else, and turning
// the whole jsonb into JSON text was a sixth of what Postgres spends on a read (and a third of the
// text Node parses).
const RANGES = `
  SELECT r.ord, (SELECT json_agg(json_build_array(e.stream_version, e.type, e.schema_version, e.data,
                                                  e.metadata->>'at', e.metadata->>'userId', e.metadata->>'deviceId') ORDER BY e.stream_version)
                 FROM es_events e WHERE e.stream_id = r.stream_id AND e.stream_version > r.after AND e.stream_version <= r.up_to)::text AS events
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(stream_id, after, up_to, ord)`;

type Packed = [number, string, number, unknown, unknown, unknown, unknown];

const decodePacked = (streamId: string, p: Packed): FoldableEvent => {
  const [version, type, schemaVersion, data, at, userId, deviceId] = p;
  const where = { streamId, version };
  const meta = decodeOrReport(EventActor, { at, userId, deviceId });
  if (E.isLeft(meta)) throw new EventDecodeError(streamId, version, meta.left);
  return { streamId, version, event: decodeStored(workspaceEventSchema, where, type, schemaVersion, data), metadata: meta.right };
};

/** What Postgres answers for a batch of ranges: per range (1-based ord), its events as one JSON array text. */
export type RangeRows = { ord: string; events: string | null }[];

/** A batch as read, not yet parsed: what a fold worker is handed. */
export interface RawBatch {
  readonly ranges: readonly Range[];
  readonly rows: RangeRows;
}

const queryRanges = async (client: pg.ClientBase, ranges: readonly Range[]): Promise<RangeRows> =>
  (await client.query<RangeRows[number]>(RANGES, [ranges.map((r) => r.streamId), ranges.map((r) => r.after), ranges.map((r) => r.upTo)])).rows;

export const decodeRanges = (ranges: readonly Range[], rows: RangeRows): FoldableEvent[] => {
  const out: FoldableEvent[] = [];
  for (const row of [...rows].sort((a, b) => Number(a.ord) - Number(b.ord))) {
    const range = ranges[Number(row.ord) - 1] as Range;
    for (const p of JSON.parse(row.events ?? '[]') as Packed[]) out.push(decodePacked(range.streamId, p));
  }
  return out;
};

/** The events of the given ranges, decoded, in the order of the ranges and then of their versions. */
export const loadRanges = async (client: pg.ClientBase, ranges: readonly Range[]): Promise<FoldableEvent[]> =>
  decodeRanges(ranges, await queryRanges(client, ranges));

/** Splits streams (id, version) into batches of ranges of about batchEvents events; a long stream spans several. */
export function* rangeBatches(streams: Iterable<{ streamId: string; version: number }>, batchEvents: number): Generator<Range[]> {
  let batch: Range[] = [];
  let size = 0;
  for (const s of streams)
    for (let after = 0; after < s.version; after += batchEvents) {
      const upTo = Math.min(s.version, after + batchEvents);
      batch.push({ streamId: s.streamId, after, upTo });
      size += upTo - after;
      if (size >= batchEvents) {
        yield batch;
        batch = [];
        size = 0;
      }
    }
  if (batch.length > 0) yield batch;
}

/** workspaceRawBatches, parsed and decoded. */
export async function* workspaceEventBatches(clients: readonly pg.ClientBase[], batchEvents = 5000): AsyncGenerator<FoldableEvent[]> {
  for await (const batch of workspaceRawBatches(clients, batchEvents)) yield decodeRanges(batch.ranges, batch.rows);
}

/**
 * Every workspace stream's events in one consistent snapshot, stream by stream and in stream order,
 * as Postgres answers them (decodeRanges parses and decodes them as any read of the log is), in
 * batches of about `batchEvents`. A long stream is split into several ranges; memory holds a few batches. Several
 * connections read at once, sharing the first one's snapshot (pg_export_snapshot), each one query
 * at a time: Postgres works on the next batches while Node parses, decodes and folds the current one.
 */
export async function* workspaceRawBatches(clients: readonly pg.ClientBase[], batchEvents = 5000): AsyncGenerator<RawBatch> {
  const first = clients[0];
  if (first === undefined) throw new Error('workspaceRawBatches needs a connection');
  // Each connection runs one query at a time, in the order asked.
  const tails = clients.map((): Promise<unknown> => Promise.resolve());
  const on = <T>(i: number, f: (client: pg.ClientBase) => Promise<T>): Promise<T> => {
    const run = (tails[i] as Promise<unknown>).then(() => f(clients[i] as pg.ClientBase));
    tails[i] = run.catch(() => undefined);
    return run;
  };
  const open: pg.ClientBase[] = [];
  const ahead: Promise<{ ranges: Range[]; rows: RangeRows } | null>[] = [];
  let finished = false;
  try {
    await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open.push(first);
    if (clients.length > 1) {
      const { rows } = await first.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      for (const other of clients.slice(1)) {
        await other.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        open.push(other);
        await other.query(`SET TRANSACTION SNAPSHOT '${(rows[0] as { id: string }).id}'`);
      }
    }
    await first.query(
      `DECLARE workspace_streams NO SCROLL CURSOR FOR
       SELECT stream_id, version FROM es_streams WHERE starts_with(stream_id, '${WORKSPACE_STREAM}') ORDER BY stream_id`,
    );
    // Streams are listed a page at a time too; a page's ranges may end in a partial batch, which is fine.
    const fetchRanges = async function* (): AsyncGenerator<Range[]> {
      for (;;) {
        const { rows } = await on(0, (c) => c.query<{ stream_id: string; version: string }>('FETCH 10000 FROM workspace_streams'));
        if (rows.length === 0) return;
        yield* rangeBatches(rows.map((r) => ({ streamId: r.stream_id, version: Number(r.version) })), batchEvents);
      }
    };
    const ranges = fetchRanges();
    let turn = 0;
    const request = () => {
      const i = turn++ % clients.length;
      ahead.push(ranges.next().then((r) => (r.done ? null : on(i, async (c) => ({ ranges: r.value, rows: await queryRanges(c, r.value) })))));
    };
    while (ahead.length < PREFETCH * clients.length) request();
    for (;;) {
      const batch = await ahead[0];
      ahead.shift();
      if (batch === null || batch === undefined) break;
      request();
      yield batch;
    }
    await Promise.all(ahead);
    for (const client of open) await client.query('COMMIT');
    finished = true;
  } finally {
    // Also when the consumer stops early (an abort, a failed write): no transaction left open on a pooled connection.
    if (!finished) {
      await Promise.allSettled(ahead);
      for (const client of open) await client.query('ROLLBACK').catch(() => undefined);
    }
  }
}
