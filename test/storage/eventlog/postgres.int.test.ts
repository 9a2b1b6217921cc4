import crypto from 'node:crypto';
import * as t from 'io-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventSchema } from '../../../src/storage/eventlog/decode.js';
import { ConcurrencyError, EventDecodeError } from '../../../src/storage/eventlog/errors.js';
import type { EventLog } from '../../../src/storage/eventlog/port.js';
import { createPostgresEventLog } from '../../../src/storage/eventlog/postgres/index.js';
import { LOG_START, type LogPosition, type NewEvent, type StoredEvent } from '../../../src/storage/eventlog/types.js';
import { inTransaction } from '../../../src/storage/postgres/transaction.js';
import { appendInTransaction } from '../../../src/storage/eventlog/postgres/append.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

// A small event schema of its own: v1 of Noted had {text}; v2 renamed it to {note} and added {tags}.
const Noted = t.type({ type: t.literal('Noted'), data: t.type({ note: t.string, tags: t.array(t.string) }) });
type Noted = t.TypeOf<typeof Noted>;
const schema: EventSchema<Noted> = {
  codec: Noted,
  currentVersion: (type) => (type === 'Noted' ? 2 : undefined),
  upcasters: { Noted: { 1: (d) => ({ note: (d as { text: string }).text, tags: [] }) } },
};

const note = (text: string): NewEvent<Noted> => ({
  eventId: crypto.randomUUID(),
  event: { type: 'Noted', data: { note: text, tags: ['t'] } },
  schemaVersion: 2,
  metadata: { at: '2026-01-01T00:00:00.000Z' as never, userId: 'u1' as never, deviceId: null, correlationId: 'c', causationId: null },
});

describe('the Postgres event log', () => {
  let db: TestDatabase;
  let log: EventLog<Noted>;
  beforeAll(async () => {
    db = await createTestDatabase();
    log = createPostgresEventLog(db.pool, schema);
  });
  afterAll(async () => db.drop());

  describe('a new stream', () => {
    it('takes its first events at expected version 0, numbered from 1', async () => {
      const r = await log.append('s-new', 0, [note('a'), note('b')]);
      expect(r.version).toBe(2);
      expect(r.events.map((e) => e.version)).toEqual([1, 2]);
      expect((await log.readStream('s-new', 0, 10)).map((e) => e.event.data.note)).toEqual(['a', 'b']);
      expect(await log.streamVersion('s-new')).toBe(2);
    });

    it('refuses a second first writer', async () => {
      await log.append('s-twice', 0, [note('first')]);
      await expect(log.append('s-twice', 0, [note('second')])).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await log.streamVersion('s-twice')).toBe(1);
    });

    it('refuses an expected version it has not reached', async () => {
      await expect(log.append('s-missing', 3, [note('x')])).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await log.streamVersion('s-missing')).toBe(0);
    });
  });

  describe('a stream with events', () => {
    it('appends at its version and refuses a stale one, keeping versions contiguous', async () => {
      await log.append('s-cc', 0, [note('1')]);
      await log.append('s-cc', 1, [note('2')]);
      await expect(log.append('s-cc', 1, [note('stale')])).rejects.toBeInstanceOf(ConcurrencyError);
      const events = await log.readStream('s-cc', 0, 100);
      expect(events.map((e) => [e.version, e.event.data.note])).toEqual([[1, '1'], [2, '2']]);
    });

    it('lets exactly one of many concurrent writers at the same version win', async () => {
      await log.append('s-race', 0, [note('0')]);
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => log.append('s-race', 1, [note(`w${i}`)])));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof ConcurrencyError)).toHaveLength(9);
      expect(await log.streamVersion('s-race')).toBe(2);
    });

    it('reads from a version, with a limit', async () => {
      await log.append('s-page', 0, ['a', 'b', 'c', 'd'].map(note));
      expect((await log.readStream('s-page', 1, 2)).map((e) => e.version)).toEqual([2, 3]);
    });
  });

  describe('events stored at an older schema version', () => {
    it('are upcast to the current shape when read', async () => {
      await db.pool.query(
        `INSERT INTO es_streams (stream_id, version, head_hash) VALUES ('s-old', 1, decode(repeat('00', 32), 'hex'));
         INSERT INTO es_events (stream_id, stream_version, event_id, type, schema_version, data, metadata, hash)
         VALUES ('s-old', 1, gen_random_uuid(), 'Noted', 1, '{"text":"from 2025"}',
                 '{"at":"2025-06-01T00:00:00.000Z","userId":"u1","deviceId":null,"correlationId":"c","causationId":null}', decode(repeat('00', 32), 'hex'))`,
      );
      const [old] = await log.readStream('s-old', 0, 1);
      expect(old?.event).toEqual({ type: 'Noted', data: { note: 'from 2025', tags: [] } });
    });

    it('fail loudly when newer than this build or malformed', async () => {
      await db.pool.query(
        `INSERT INTO es_streams (stream_id, version, head_hash) VALUES ('s-bad', 2, decode(repeat('00', 32), 'hex'));
         INSERT INTO es_events (stream_id, stream_version, event_id, type, schema_version, data, metadata, hash) VALUES
         ('s-bad', 1, gen_random_uuid(), 'Noted', 3, '{}', '{"at":"2025-06-01T00:00:00.000Z","userId":"u1","deviceId":null,"correlationId":"c","causationId":null}', decode(repeat('00', 32), 'hex')),
         ('s-bad', 2, gen_random_uuid(), 'Noted', 2, '{"note":7}', '{"at":"2025-06-01T00:00:00.000Z","userId":"u1","deviceId":null,"correlationId":"c","causationId":null}', decode(repeat('00', 32), 'hex'))`,
      );
      try {
        await expect(log.readStream('s-bad', 0, 1)).rejects.toThrow(/newer than this build/);
        await expect(log.readStream('s-bad', 1, 1)).rejects.toBeInstanceOf(EventDecodeError);
      } finally {
        await db.pool.query(`DELETE FROM es_events WHERE stream_id = 's-bad'`);
      }
    });
  });

  describe('reading all streams in commit order', () => {
    const drain = async (from: LogPosition, seen: StoredEvent<Noted>[]): Promise<LogPosition> => {
      let position = from;
      for (;;) {
        const page = await log.readAll(position, 50);
        seen.push(...page.events);
        position = page.next;
        if (page.events.length === 0) return position;
      }
    };

    it('never skips an event whose transaction committed after a later position was read', async () => {
      const start = await drain(LOG_START, []);
      // A slow writer takes a position first and commits last; a naive position-ordered reader
      // would pass its position before it commits, and never come back for it.
      const slow = inTransaction(db.pool, async (client) => {
        const stored = await appendInTransaction(client, 'slow', 0, [note('slow')]);
        await client.query('SELECT pg_sleep(0.5)');
        return stored;
      });
      await new Promise((r) => setTimeout(r, 100));
      const fast = await log.append('fast', 0, [note('fast')]);
      const firstRead: StoredEvent<Noted>[] = [];
      const afterFirst = await drain(start, firstRead);
      const naive = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM es_events WHERE global_position > $1', [
        (await slow)[0]?.position.globalPosition.toString(),
      ]);
      expect(Number(naive.rows[0]?.n)).toBeGreaterThanOrEqual(1); // the fast event sits after the slow one's position
      expect(firstRead.map((e) => e.eventId)).not.toContain(fast.events[0]?.eventId); // held back until the slow one is done
      // xmin is cluster-wide: transactions of other databases on this server can hold events back
      // for a while (never lose them), so read on until both are through.
      const rest: StoredEvent<Noted>[] = [];
      let position = afterFirst;
      const ours = () => [...firstRead, ...rest].filter((e) => e.streamId === 'slow' || e.streamId === 'fast');
      for (const deadline = Date.now() + 20_000; ours().length < 2 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20)))
        position = await drain(position, rest);
      expect(ours().map((e) => e.streamId)).toEqual(['slow', 'fast']);
    });

    it('delivers every event exactly once to a reader polling while many writers commit', async () => {
      const start = await drain(LOG_START, []);
      const writers = 8;
      const perWriter = 25;
      const seen: StoredEvent<Noted>[] = [];
      let done = false;
      const reader = (async () => {
        let position = start;
        while (!done) position = await drain(position, seen);
        // xmin is cluster-wide: a transaction open elsewhere on the server (other test databases)
        // holds events back, never loses them. Keep reading until they are all through.
        const deadline = Date.now() + 20_000;
        while (seen.filter((e) => /^w\d+$/.test(e.streamId)).length < writers * perWriter && Date.now() < deadline) {
          position = await drain(position, seen);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await inTransaction(db.pool, async (client) => {
              await appendInTransaction(client, `w${w}`, i, [note(`${w}:${i}`)]);
              // Random delays between taking a position and committing interleave the transactions.
              if (Math.random() < 0.3) await client.query('SELECT pg_sleep($1)', [Math.random() * 0.02]);
            });
          }
        }),
      );
      done = true;
      await reader;
      // Events of earlier tests that were still held back when this one started may come through too.
      expect(new Set(seen.map((e) => e.eventId)).size).toBe(seen.length);
      expect(seen.filter((e) => /^w\d+$/.test(e.streamId))).toHaveLength(writers * perWriter);
      for (let w = 0; w < writers; w++)
        expect(seen.filter((e) => e.streamId === `w${w}`).map((e) => e.version)).toEqual(Array.from({ length: perWriter }, (_, i) => i + 1));
    });
  });
});
