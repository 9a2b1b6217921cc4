import fs from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkHash, NodeId, WorkspaceId } from '../../src/domain/ids.js';
import { collectGarbage, type GcOptions } from '../../src/maintenance/gc/sweep.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { chunksOf, randomBytes, refsOf, startTransfersGateway, type Account, type Chunk, type TransfersGateway } from '../gateway/transfers/harness.js';

const HOUR = 60 * 60 * 1000;

describe('garbage collection of chunks', () => {
  let db: TestDatabase;
  let t: TransfersGateway;
  let a: Account;
  let b: Account;

  /** GC as if `ms` had passed: blobs look old, uploads nobody committed stop protecting their chunks after 25 h. */
  const gcLater = (ms: number, extra: Partial<GcOptions> = {}) => collectGarbage({ pool: db.pool, blobs: t.gw.deps.blobs, now: new Date(Date.now() + ms), ...extra });
  const stored = async (c: Chunk): Promise<boolean> => (await t.gw.deps.blobs.stat(c.hash as ChunkHash)) !== null;
  const purgeFile = async (who: Account, fileId: string) => {
    await t.call('DELETE', `/v1/nodes/${fileId}`, who);
    const r = await t.gw.deps.handle({ type: 'PurgeNode', workspaceId: who.workspaceId as WorkspaceId, data: { nodeId: fileId as NodeId, versionIds: null }, metadata: t.meta(who) });
    expect(E.isRight(r)).toBe(true);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTransfersGateway(db);
    a = await t.newAccount();
    b = await t.newAccount();
  });
  afterAll(async () => {
    await t.gw.close();
    await db.drop();
  });

  it('frees what nothing references, never a chunk another workspace, a trashed file or a recent upload still uses', async () => {
    const [shared, onlyA, inTrash] = chunksOf(randomBytes(3 * 1000), 1000) as [Chunk, Chunk, Chunk];
    const pending = chunksOf(randomBytes(700), 700)[0] as Chunk;
    const fileA = await t.upload(a, a.rootId, 'a.bin', [shared, onlyA]);
    const fileB = await t.upload(b, b.rootId, 'b.bin', [shared]);
    const trashed = await t.upload(b, b.rootId, 'trashed.bin', [inTrash]);
    await t.call('DELETE', `/v1/nodes/${trashed.fileId}`, b);
    await purgeFile(a, fileA.fileId);
    // Sent, never committed (yet): held for 24 h.
    const request = await t.uploadRequest(b, b.rootId, 'later.bin', [pending]);
    expect((await t.putBytes((request.body.uploadUrls as Record<string, string>)[pending.hash] as string, pending.bytes)).status).toBe(201);

    // Within the grace period nothing is touched; for a day (plus the grace) an upload holds its chunk even uncommitted.
    expect((await gcLater(0)).garbageChunks).toBe(0);
    expect((await gcLater(2 * HOUR, { dryRun: true })).garbageChunks).toBe(0);
    // A day later, what A alone used and what B sent but never committed are garbage; the rest is still referenced.
    const dry = await gcLater(26 * HOUR, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, scannedChunks: 4, garbageChunks: 2, garbageBytes: onlyA.size + pending.size, deletedChunks: 0, freedBytes: 0 });
    expect(await Promise.all([shared, onlyA, inTrash, pending].map(stored))).toEqual([true, true, true, true]);
    const report = await gcLater(26 * HOUR);
    expect(report).toMatchObject({ dryRun: false, scannedChunks: 4, scannedBytes: 3 * 1000 + 700, deletedChunks: 2, freedBytes: onlyA.size + pending.size });
    expect(await Promise.all([shared, onlyA, inTrash, pending].map(stored))).toEqual([true, false, true, false]);
    expect((await t.getBytes(`/v1/files/${fileB.fileId}/content`, b)).bytes).toEqual(shared.bytes);
    expect((await gcLater(26 * HOUR)).deletedChunks).toBe(0);
  });

  /** Resolves once some session waits for one of the GC fence's advisory locks. */
  const someoneWaitsForTheFence = async (): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 7342006 AND NOT granted");
      if ((rows[0] as { n: number }).n > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('nobody waited for the fence');
  };

  it('makes an upload that re-sends a chunk during the sweep try again, never keeping a holding without bytes', async () => {
    const chunk = chunksOf(randomBytes(1500), 1500)[0] as Chunk;
    const first = await t.uploadRequest(a, a.rootId, 'x.bin', [chunk]);
    await t.putBytes((first.body.uploadUrls as Record<string, string>)[chunk.hash] as string, chunk.bytes);
    const again = await t.uploadRequest(b, b.rootId, 'x.bin', [chunk]);
    const url = (again.body.uploadUrls as Record<string, string>)[chunk.hash] as string;
    let put: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    const report = await gcLater(26 * HOUR, {
      whileLocked: async (hashes) => {
        if (!hashes.some((h) => h === chunk.hash)) return;
        // B sends the bytes now: stored again, then its holding waits for the sweep's lock.
        put = t.putBytes(url, chunk.bytes);
        await someoneWaitsForTheFence();
      },
    });
    expect(report.deletedChunks).toBeGreaterThanOrEqual(1);
    const answer = await (put as NonNullable<typeof put>);
    expect(answer.status).toBe(503);
    expect((answer.body as { error: { details: { reason: string } } }).error.details.reason).toBe('chunk_collected');
    expect(await stored(chunk)).toBe(false);
    // Sending it again stores it for good; the commit goes through and the bytes are there.
    expect((await t.putBytes(url, chunk.bytes)).status).toBe(201);
    const commit = await t.commit(b, { parentId: b.rootId, name: 'x.bin', chunks: refsOf([chunk]), size: chunk.size, idempotencyKey: 'x' });
    expect(commit.status).toBe(201);
    expect((await t.getBytes(`/v1/files/${commit.body.fileId}/content`, b)).bytes).toEqual(chunk.bytes);
  });

  it('refuses a commit that passed its holdings check but reached the chunk after the sweep deleted it', async () => {
    const chunk = chunksOf(randomBytes(1200), 1200)[0] as Chunk;
    const request = await t.uploadRequest(a, a.rootId, 'y.bin', [chunk]);
    await t.putBytes((request.body.uploadUrls as Record<string, string>)[chunk.hash] as string, chunk.bytes);
    const cursor = await t.cursorOf(a);
    let commit: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    // The sweep's clock runs two days ahead of the gateway's: the gateway still counts A's upload as held, the sweep does not.
    await gcLater(48 * HOUR, {
      whileLocked: async (hashes) => {
        if (!hashes.some((h) => h === chunk.hash)) return;
        commit = t.commit(a, { parentId: a.rootId, name: 'y.bin', chunks: refsOf([chunk]), size: chunk.size, idempotencyKey: 'y' });
        await someoneWaitsForTheFence();
      },
    });
    const refused = await (commit as NonNullable<typeof commit>);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'missing_chunks', details: { missing: [chunk.hash] } });
    expect(await t.cursorOf(a)).toBe(cursor);
    // The workspace no longer counts the chunk as held: the device uploads it again and commits.
    const retry = await t.upload(a, a.rootId, 'y.bin', [chunk]);
    expect(retry.missing).toEqual([chunk.hash]);
    expect((await t.getBytes(`/v1/files/${retry.fileId}/content`, a)).bytes).toEqual(chunk.bytes);
  });

  const sendRecords = (who: Account, chunks: readonly Chunk[]) => t.sendRecords(who, chunks);

  it('makes a batch of chunks re-sent during the sweep try again, never keeping a holding without bytes', async () => {
    const [swept, other] = chunksOf(randomBytes(2 * 900), 900) as [Chunk, Chunk];
    expect((await sendRecords(a, [swept])).status).toBe(200);
    let sent: ReturnType<typeof sendRecords> | undefined;
    await gcLater(26 * HOUR, {
      whileLocked: async (hashes) => {
        if (!hashes.some((h) => h === swept.hash) || sent !== undefined) return;
        sent = sendRecords(b, [other, swept]);
        await someoneWaitsForTheFence();
      },
    });
    const answer = await (sent as NonNullable<typeof sent>);
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'unavailable', details: { reason: 'chunk_collected', hashes: [swept.hash] } });
    expect(await stored(swept)).toBe(false);
    expect((await sendRecords(b, [other, swept])).status).toBe(200);
    expect([await stored(swept), await stored(other)]).toEqual([true, true]);
  });

  it('answers missing_chunks for the commits of a batch whose chunk the sweep deleted after their check, and takes the others', async () => {
    const [swept, kept] = chunksOf(randomBytes(2 * 800), 800) as [Chunk, Chunk];
    expect((await sendRecords(a, [swept])).status).toBe(200);
    await t.upload(a, a.rootId, 'kept.bin', [kept]);
    const cursor = await t.cursorOf(a);
    let batch: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    await gcLater(48 * HOUR, {
      whileLocked: async (hashes) => {
        if (!hashes.some((h) => h === swept.hash) || batch !== undefined) return;
        batch = t.commitBatch(a, [
          { parentId: a.rootId, name: 'swept.bin', chunks: refsOf([swept]), size: swept.size, idempotencyKey: 'gc-swept' },
          { parentId: a.rootId, name: 'kept-again.bin', chunks: refsOf([kept]), size: kept.size, idempotencyKey: 'gc-kept' },
        ]);
        await someoneWaitsForTheFence();
      },
    });
    const answer = await (batch as NonNullable<typeof batch>);
    expect(answer.status).toBe(200);
    const results = answer.body.results as { status: number; error?: { code: string; details: Record<string, unknown> } }[];
    expect(results.map((r) => r.status)).toEqual([422, 201]);
    expect(results[0]?.error).toMatchObject({ code: 'missing_chunks', details: { missing: [swept.hash] } });
    expect(await t.cursorOf(a)).toBe(cursor + 1);
  });

  it('never lets a version reference a deleted blob under concurrent uploads, commits, purges and sweeps', async () => {
    const pool = chunksOf(randomBytes(12 * 2048), 2048);
    let uploading = true;
    let deleted = 0;
    // The sweep's clock runs two days ahead: it counts every upload as stale, so whatever no version references is garbage to it.
    const sweeper = (async () => {
      while (uploading) {
        deleted += (await gcLater(48 * HOUR)).deletedChunks;
        // Pauses of varying length, so some uploads get through whole and others are caught midway.
        await new Promise((r) => setTimeout(r, Math.random() * 30));
      }
    })();
    let retried = 0;
    let committed = 0;
    /** Uploads files of three chunks of the pool, reads each back whole, then purges it so its chunks can become garbage again. */
    const device = async (who: Account, n: number) => {
      for (let i = 0; i < 3; i++) {
        const chunks = [0, 1, 2].map((k) => pool[(n * 7 + i * 5 + k * 3) % pool.length] as Chunk);
        for (let attempt = 1; attempt <= 10; attempt++) {
          try {
            const r = await t.upload(who, who.rootId, `f${n}-${i}.bin`, chunks);
            const back = await t.getBytes(`/v1/files/${r.fileId}/content`, who);
            expect(back.status).toBe(200);
            expect(back.bytes.equals(Buffer.concat(chunks.map((c) => c.bytes)))).toBe(true);
            committed++;
            await purgeFile(who, r.fileId);
            break;
          } catch (e) {
            // 503 (collected while it arrived) and 422 (collected before the commit reached it) are answers to retry.
            const status = /: (\d{3}) /.exec(String(e))?.[1];
            if (status !== '503' && status !== '422') throw e;
            retried++;
          }
        }
      }
    };
    const devices = await Promise.all([0, 1, 2].map(() => t.newAccount()));
    try {
      await Promise.all(devices.map((who, n) => device(who, n)));
    } finally {
      uploading = false;
      await sweeper;
    }
    expect(deleted).toBeGreaterThan(0);
    expect(committed, `${retried} retries`).toBeGreaterThan(0);
    const { rows } = await db.pool.query<{ hash: string }>('SELECT DISTINCT hash FROM rm.chunk_refs WHERE refs > 0');
    for (const { hash } of rows) expect(await stored({ hash } as Chunk), hash).toBe(true);
  });
  describe('of small chunks sent many at once (packed)', () => {
    const packFiles = (): string[] => (fs.existsSync(path.join(t.gw.blobDir, 'packs')) ? fs.readdirSync(path.join(t.gw.blobDir, 'packs')) : []);

    it('deletes the unreferenced ones and gives their space back by rewriting the pack with what is still used', async () => {
      const chunks = chunksOf(randomBytes(10 * 2000), 2000);
      const before = new Set(packFiles());
      expect((await t.sendRecords(a, chunks)).status).toBe(200);
      const sent = packFiles().filter((f) => !before.has(f));
      expect(sent).toHaveLength(1);
      // One file keeps two of the ten; the other eight were sent and never committed.
      const [kept1, kept2] = chunks as [Chunk, Chunk];
      const file = await t.commit(a, { parentId: a.rootId, name: 'packed.bin', chunks: refsOf([kept1, kept2]), size: kept1.size + kept2.size, idempotencyKey: 'packed' });
      expect(file.status).toBe(201);

      const dry = await gcLater(26 * HOUR, { dryRun: true });
      expect(dry.garbageChunks).toBeGreaterThanOrEqual(8);
      expect(packFiles()).toEqual(expect.arrayContaining(sent));
      const report = await gcLater(26 * HOUR);
      expect(report.deletedChunks).toBeGreaterThanOrEqual(8);
      expect(report.packsRewritten).toBeGreaterThanOrEqual(1);
      expect(report.reclaimedBytes).toBeGreaterThanOrEqual(8 * 2000);
      expect(await Promise.all(chunks.map(stored))).toEqual(chunks.map((_, i) => i < 2));
      // The pack as sent is gone; what the file uses was moved and still reads back.
      expect(packFiles()).not.toEqual(expect.arrayContaining(sent));
      expect((await t.getBytes(`/v1/files/${file.body.fileId}/content`, a)).bytes).toEqual(Buffer.concat([kept1.bytes, kept2.bytes]));
    });

    it('makes a batch that re-sends a packed chunk during the sweep send it again, never keeping a holding without bytes', async () => {
      const chunk = chunksOf(randomBytes(1800), 1800)[0] as Chunk;
      expect((await t.sendRecords(a, [chunk])).status).toBe(200);
      let sending: ReturnType<typeof t.sendRecords> | undefined;
      const report = await gcLater(26 * HOUR, {
        whileLocked: async (hashes) => {
          if (!hashes.some((h) => h === chunk.hash)) return;
          sending = t.sendRecords(b, [chunk]);
          await someoneWaitsForTheFence();
        },
      });
      expect(report.deletedChunks).toBeGreaterThanOrEqual(1);
      const answer = await (sending as NonNullable<typeof sending>);
      expect(answer.status).toBe(503);
      expect(answer.body.error?.details).toMatchObject({ reason: 'chunk_collected', hashes: [chunk.hash] });
      expect(await stored(chunk)).toBe(false);
      expect((await t.sendRecords(b, [chunk])).status).toBe(200);
      const commit = await t.commit(b, { parentId: b.rootId, name: 'again.bin', chunks: refsOf([chunk]), size: chunk.size, idempotencyKey: 'again' });
      expect(commit.status).toBe(201);
      expect((await t.getBytes(`/v1/files/${commit.body.fileId}/content`, b)).bytes).toEqual(chunk.bytes);
    });
  });
});
