import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import { domainError } from '../../domain/errors.js';
import { loadDecisionState } from '../../projections/tree/decisionState.js';
import { applyTreeEvent } from '../../projections/tree/apply.js';
import { appendInTransaction } from '../../storage/eventlog/postgres/append.js';
import { readStream } from '../../storage/eventlog/postgres/read.js';
import { ConcurrencyError } from '../../storage/eventlog/errors.js';
import { workspaceEventSchema, workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import { pgConstraint, pgErrorCode } from '../../storage/postgres/transaction.js';
import type { UnitOfWork, WorkspaceStore } from '../port.js';

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
      priorResult: async (key) => {
        const { rows } = await client.query<{ first_version: string; last_version: string }>(
          'SELECT first_version, last_version FROM es_idempotency WHERE stream_id = $1 AND key = $2',
          [streamId, key],
        );
        const row = rows[0];
        if (row === undefined) return null;
        const first = Number(row.first_version);
        const last = Number(row.last_version);
        const events = last >= first ? await readStream(client, workspaceEventSchema, streamId, first - 1, last - first + 1) : [];
        return { events, cursor: last };
      },
      append: async (expectedVersion, events) => {
        const stored = await appendInTransaction(client, streamId, expectedVersion, events);
        for (const e of stored) await applyTreeEvent(client, readModelSchema, e);
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
