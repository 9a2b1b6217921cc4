import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import { domainError } from '../../domain/errors.js';
import { loadDecisionState, loadDecisionStateForAll } from '../../projections/tree/decisionState.js';
import { applyTreeEvents } from '../../projections/tree/apply.js';
import { appendInTransaction } from '../../storage/eventlog/postgres/append.js';
import { readStream } from '../../storage/eventlog/postgres/read.js';
import { ConcurrencyError } from '../../storage/eventlog/errors.js';
import { workspaceEventSchema, workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import { pgConstraint, pgErrorCode } from '../../storage/postgres/transaction.js';
import type { PriorResult, UnitOfWork, WorkspaceStore } from '../port.js';

/** Past this many events between the oldest and the newest result asked for, each is read alone. */
const PRIOR_SPAN_LIMIT = 10_000;

/**
 * The results of the keys already used on the stream. The events of one key are contiguous, and the
 * keys of one retried batch are neighbours: one read of their span serves them all.
 */
const priorResults = async (client: pg.ClientBase, streamId: string, keys: readonly string[]): Promise<Map<string, PriorResult>> => {
  const out = new Map<string, PriorResult>();
  if (keys.length === 0) return out;
  const { rows } = await client.query<{ key: string; first_version: string; last_version: string }>({
    name: 'es_prior_results',
    text: 'SELECT key, first_version, last_version FROM es_idempotency WHERE stream_id = $1 AND key = ANY($2::text[])',
    values: [streamId, [...new Set(keys)]],
  });
  const ranges = rows.map((r) => ({ key: r.key, first: Number(r.first_version), last: Number(r.last_version) })).filter((r) => r.last >= r.first);
  const from = Math.min(...ranges.map((r) => r.first));
  const to = Math.max(...ranges.map((r) => r.last));
  const span = ranges.length > 0 && to - from < PRIOR_SPAN_LIMIT ? await readStream(client, workspaceEventSchema, streamId, from - 1, to - from + 1) : null;
  for (const r of rows) {
    const first = Number(r.first_version);
    const last = Number(r.last_version);
    const events =
      last < first ? [] : span !== null ? span.filter((e) => e.version >= first && e.version <= last) : await readStream(client, workspaceEventSchema, streamId, first - 1, last - first + 1);
    out.set(r.key, { events, cursor: last });
  }
  return out;
};

class Rollback<L> {
  constructor(readonly left: L) {}
}

/**
 * Units of work as Postgres transactions. The decision state is read from the projection under a
 * row lock on the stream, the events are appended with their expected version, and the inline
 * projections are applied in the same transaction: a read right after a commit sees it.
 */
export const createPostgresWorkspaceStore = (pool: pg.Pool, readModelSchema = 'rm'): WorkspaceStore => ({
  transact: async (workspaceId, fn) => {
    const streamId = workspaceStreamId(workspaceId);
    const client = await pool.connect();
    const uow: UnitOfWork = {
      load: (command) => loadDecisionState(client, readModelSchema, streamId, command),
      loadForAll: (commands) => loadDecisionStateForAll(client, readModelSchema, streamId, workspaceId, commands),
      priorResult: async (key) => (await priorResults(client, streamId, [key])).get(key) ?? null,
      priorResults: (keys) => priorResults(client, streamId, keys),
      append: async (expectedVersion, events) => {
        const stored = await appendInTransaction(client, streamId, expectedVersion, events);
        await applyTreeEvents(client, readModelSchema, stored);
        return stored;
      },
      remember: async (key, events, cursor) => {
        // The events of one unit of work are contiguous: from the first one's version to the cursor.
        await client.query({
          name: 'es_remember_key',
          text: 'INSERT INTO es_idempotency (stream_id, key, first_version, last_version) VALUES ($1, $2, $3, $4)',
          values: [streamId, key, events[0]?.version ?? cursor + 1, cursor],
        });
      },
      rememberAll: async (entries) => {
        if (entries.length === 0) return;
        await client.query({
          name: 'es_remember_keys',
          text: `INSERT INTO es_idempotency (stream_id, key, first_version, last_version)
                 SELECT $1, k, f, l FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(k, f, l)`,
          values: [streamId, entries.map((e) => e.key), entries.map((e) => e.events[0]?.version ?? e.cursor + 1), entries.map((e) => e.cursor)],
        });
      },
    };
    try {
      await client.query('BEGIN');
      const result = await fn(uow);
      if (E.isLeft(result)) throw new Rollback(result.left);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (e instanceof Rollback) return E.left(e.left);
      if (pgErrorCode(e) === '23505') {
        // A sibling name the decision state did not show (a case-folding corner): still a conflict, not a crash.
        if (pgConstraint(e) === 'nodes_live_name')
          return E.left(domainError('name_conflict', 'A file or folder with that name already exists here.', {}));
        // Two first writers of one stream or one idempotency key: the loser re-loads and re-decides.
        throw new ConcurrencyError(streamId, -1);
      }
      throw e;
    } finally {
      client.release();
    }
  },
});
