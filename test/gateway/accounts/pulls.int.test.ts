import crypto from 'node:crypto';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPullRecorder } from '../../../src/gateway/accounts/pulls.js';
import type { Queryable } from '../../../src/gateway/accounts/repository.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

const logger = pino({ level: 'silent' });

describe('recording the cursors devices pulled', () => {
  let db: TestDatabase;
  const devices = ['d-a', 'd-b', 'd-c'];
  const t0 = new Date('2026-03-01T12:00:00.000Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  beforeAll(async () => {
    db = await createTestDatabase();
    const userId = crypto.randomUUID();
    await db.pool.query("INSERT INTO users (user_id, email, password_hash, workspace_id, created_at) VALUES ($1, $2, 'x', $3, $4)", [userId, `${userId}@example.com`, crypto.randomUUID(), t0]);
    for (const d of devices)
      await db.pool.query("INSERT INTO devices (device_id, user_id, workspace_id, name, created_at, last_seen_at) VALUES ($1, $2, 'w', $1, $3, $3)", [d, userId, t0]);
  });
  afterAll(() => db.drop());

  const counting = (fail = 0): Queryable & { statements: number } => {
    let failures = fail;
    const q = {
      statements: 0,
      query: async (config: pg.QueryConfig | string, values?: unknown[]) => {
        q.statements++;
        if (failures-- > 0) throw new Error('connection lost');
        return db.pool.query(config as pg.QueryConfig, values);
      },
    };
    return q as unknown as Queryable & { statements: number };
  };
  const rows = async () =>
    Object.fromEntries(
      (await db.pool.query<{ device_id: string; cursor: string; last_seen_at: Date }>('SELECT device_id, cursor, last_seen_at FROM devices ORDER BY device_id')).rows.map((r) => [
        r.device_id,
        [Number(r.cursor), r.last_seen_at.toISOString()],
      ]),
    );

  it('writes many pulls of many devices in one statement, keeping the highest cursor and time of each', async () => {
    const q = counting();
    const pulls = createPullRecorder({ db: q, logger, intervalMs: 60_000 });
    for (let i = 1; i <= 100; i++) pulls.record(devices[i % 3] as string, i, at(i));
    pulls.record('d-a', 5, at(1)); // late and old: moves nothing back
    expect(q.statements).toBe(0);
    await pulls.flush();
    expect(q.statements).toBe(1);
    expect(await rows()).toEqual({ 'd-a': [99, at(99).toISOString()], 'd-b': [100, at(100).toISOString()], 'd-c': [98, at(98).toISOString()] });
    await pulls.flush();
    expect(q.statements).toBe(1);
    // Another node's late flush never moves a cursor back either.
    pulls.record('d-b', 7, at(7));
    await pulls.close();
    expect((await rows())['d-b']).toEqual([100, at(100).toISOString()]);
  });

  it('writes on its own within the interval, and keeps the pulls of a failed write for the next one', async () => {
    const q = counting(1);
    const pulls = createPullRecorder({ db: q, logger, intervalMs: 30 });
    pulls.record('d-c', 500, at(500));
    await new Promise((r) => setTimeout(r, 40));
    expect(q.statements).toBe(1);
    expect(pulls.pending).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(q.statements).toBe(2);
    expect((await rows())['d-c']).toEqual([500, at(500).toISOString()]);
    await pulls.close();
  });
});
