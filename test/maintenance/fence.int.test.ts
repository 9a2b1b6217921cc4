import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_LOCK_SPACE } from '../../src/storage/postgres/migrations/007_blob_gc.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

/**
 * The GC fence on chunk references (migrations 007 and 009), at the level of the table: a reference
 * made or grown to a chunk whose blob a sweep deleted is refused; one lowered is not; the check
 * waits for a sweep holding the chunk's bucket.
 */
describe('the GC fence on chunk references', () => {
  let db: TestDatabase;
  beforeAll(async () => void (db = await createTestDatabase()));
  afterAll(async () => db.drop());

  const hash = () => crypto.randomBytes(32).toString('hex');
  const ws = () => crypto.randomUUID();
  const tombstone = (h: string) => db.pool.query('INSERT INTO blob_tombstones (hash, deleted_at) VALUES ($1, now())', [h]);
  const upsert = (w: string, hashes: string[], refs = 1) =>
    db.pool.query(
      `INSERT INTO rm.chunk_refs (workspace_id, hash, size, refs) SELECT $1, h, 10, $3 FROM unnest($2::text[]) AS h
       ON CONFLICT (workspace_id, hash) DO UPDATE SET refs = rm.chunk_refs.refs + excluded.refs`,
      [w, hashes, refs],
    );
  const refused = async (p: Promise<unknown>) => {
    const e = (await p.then(() => null, (error: unknown) => error)) as { code?: string; detail?: string } | null;
    return e === null ? null : { code: e.code, detail: e.detail };
  };
  const rows = async (w: string) => Number((await db.pool.query('SELECT count(*) AS n FROM rm.chunk_refs WHERE workspace_id = $1', [w])).rows[0].n);

  it('given a deleted blob, when a statement of many new references names it, then it is refused with that chunk and none is kept', async () => {
    const w = ws();
    const gone = hash();
    await tombstone(gone);
    expect(await refused(upsert(w, [hash(), gone, hash()]))).toEqual({ code: 'SGC01', detail: gone });
    expect(await rows(w)).toBe(0);
    expect(await refused(upsert(w, [hash(), hash()]))).toBeNull();
    expect(await rows(w)).toBe(2);
  });

  it('given references to chunks since deleted, when a commit raises one, then it is refused; when a purge lowers one, it is not', async () => {
    const w = ws();
    const [raised, lowered] = [hash(), hash()];
    await upsert(w, [raised]);
    await upsert(w, [lowered], 2);
    await db.pool.query('UPDATE rm.chunk_refs SET refs = 0 WHERE workspace_id = $1 AND hash = $2', [w, raised]);
    await tombstone(raised);
    await tombstone(lowered);
    expect(await refused(upsert(w, [raised]))).toEqual({ code: 'SGC01', detail: raised });
    expect(await refused(db.pool.query('UPDATE rm.chunk_refs SET refs = refs - 1 WHERE workspace_id = $1 AND hash = $2', [w, lowered]))).toBeNull();
    const { rows: left } = await db.pool.query('SELECT hash, refs FROM rm.chunk_refs WHERE workspace_id = $1 ORDER BY refs', [w]);
    expect(left).toEqual([{ hash: raised, refs: 0 }, { hash: lowered, refs: 1 }]);
  });

  it('given a sweep holding the chunk bucket, when a reference is made, then it waits until the sweep ends', async () => {
    const h = hash();
    const sweep = await db.pool.connect();
    try {
      await sweep.query('BEGIN');
      await sweep.query('SELECT pg_advisory_xact_lock($1, strata_chunk_lock_key($2))', [CHUNK_LOCK_SPACE, h]);
      let done = false;
      // Its outcome handled from the start: it fails while the sweep's COMMIT is still answering.
      const commit = refused(upsert(ws(), [h]).finally(() => (done = true)));
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      const waiting = await db.pool.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      expect(Number(waiting.rows[0].n)).toBe(1);
      // The sweep deletes the blob meanwhile: the waiting reference then sees the tombstone.
      await sweep.query('INSERT INTO blob_tombstones (hash, deleted_at) VALUES ($1, now())', [h]);
      await sweep.query('COMMIT');
      expect(await commit).toEqual({ code: 'SGC01', detail: h });
    } finally {
      sweep.release();
    }
  });
});
