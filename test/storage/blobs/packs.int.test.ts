import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFilesystemBlobStore } from '../../../src/storage/blobs/filesystem.js';
import { newPackId } from '../../../src/storage/blobs/packs/packFile.js';
import type { BlobStore, CompactReport } from '../../../src/storage/blobs/port.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { batchContract, listAll, offersBatches, type BatchBlobStore } from './batch-contract.js';
import { randomChunk, readAll, type TestChunk } from './chunks.js';
import { blobStoreContract } from './contract.js';

type PackedStore = BatchBlobStore & Required<Pick<BlobStore, 'compact'>>;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

const roots: string[] = [];
const freshRoot = (): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-packs-'));
  roots.push(root);
  return root;
};

/** A store on root sharing the file's database; a second one on the same root is a second server process. */
const openStore = async (root: string, maxChunkBytes?: number): Promise<PackedStore> => {
  const store = await createFilesystemBlobStore({ root, packs: { pool: db.pool, ...(maxChunkBytes === undefined ? {} : { maxChunkBytes }) } });
  if (!offersBatches(store) || store.compact === undefined) throw new Error('a packed store offers batch calls and compaction');
  return store as PackedStore;
};

const emptyIndex = async (): Promise<void> => {
  await db.pool.query('TRUNCATE blob_packs, blob_packed');
};

const freshPackedStore = async (): Promise<BlobStore> => {
  await emptyIndex();
  return openStore(freshRoot());
};

/** Every file under dir, as paths relative to it. */
const filesUnder = (dir: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort() : [];

const packsOf = (root: string): string[] => filesUnder(path.join(root, 'packs'));
const looseOf = (root: string): string[] => filesUnder(path.join(root, 'chunks'));
const loosePath = (root: string, hash: string): string => path.join(root, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);

const expectHolds = async (store: BatchBlobStore, chunks: readonly TestChunk[]): Promise<void> => {
  const many = await store.getMany(chunks.map((c) => c.hash));
  expect([...many.keys()].sort()).toEqual(chunks.map((c) => c.hash).sort());
  for (const chunk of chunks) {
    expect(Buffer.from(many.get(chunk.hash)!).equals(chunk.bytes)).toBe(true);
    expect((await readAll((await store.get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
  }
};

const expectLacks = async (store: BatchBlobStore, chunks: readonly TestChunk[]): Promise<void> => {
  for (const chunk of chunks) {
    expect(await store.stat(chunk.hash)).toBeNull();
    expect(await store.get(chunk.hash)).toBeNull();
  }
  expect(await store.getMany(chunks.map((c) => c.hash))).toEqual(new Map());
  expect(await store.storedAmong(chunks.map((c) => c.hash))).toEqual(new Set());
};

const smallChunks = (count: number, size = 500): TestChunk[] => Array.from({ length: count }, () => randomChunk(size));
const inAMinute = (): Date => new Date(Date.now() + 60_000);
const aMinuteAgo = (): Date => new Date(Date.now() - 60_000);

describe('the filesystem blob store with packs', () => {
  blobStoreContract(freshPackedStore, { presign: false });
  batchContract(freshPackedStore);
});

describe('the filesystem blob store without packs', () => {
  batchContract(() => createFilesystemBlobStore({ root: freshRoot() }));

  it('offers no compaction, having nothing a delete cannot free', async () => {
    expect((await createFilesystemBlobStore({ root: freshRoot() })).compact).toBeUndefined();
  });
});

describe('a packed store', () => {
  let root: string;
  let store: PackedStore;
  beforeEach(async () => {
    await emptyIndex();
    root = freshRoot();
    store = await openStore(root, 1000);
  });

  describe('a putMany', () => {
    it('writes the small chunks of one call into exactly one pack file and none as files of their own', async () => {
      const chunks = smallChunks(20, 1000);
      await store.putMany(chunks);
      expect(packsOf(root)).toHaveLength(1);
      expect(packsOf(root)[0]).toMatch(/\.pack$/);
      expect(looseOf(root)).toEqual([]);
      await expectHolds(store, chunks);
    });

    it('keeps a chunk above maxChunkBytes as a file of its own, beside the pack of the small ones', async () => {
      const [small, large] = [randomChunk(1000), randomChunk(1001)];
      await store.putMany([small!, large!]);
      expect(looseOf(root)).toEqual([path.relative(path.join(root, 'chunks'), loosePath(root, large!.hash))]);
      expect(fs.readFileSync(loosePath(root, large!.hash)).equals(large!.bytes)).toBe(true);
      expect(packsOf(root)).toHaveLength(1);
      await expectHolds(store, [small!, large!]);
    });

    it('writes no pack when every chunk is already stored', async () => {
      const chunks = smallChunks(5);
      await store.putMany(chunks);
      const packs = packsOf(root);
      expect(await store.putMany(chunks)).toMatchObject({ ok: true, results: chunks.map(() => ({ created: false })) });
      expect(packsOf(root)).toEqual(packs);
    });

    it('writes nothing at all when a record is bad', async () => {
      const chunks = smallChunks(5);
      const forged = { hash: randomChunk(500).hash, bytes: randomChunk(500).bytes };
      expect(await store.putMany([...chunks, forged])).toMatchObject({ ok: false, code: 'hash_mismatch', index: 5 });
      expect(packsOf(root)).toEqual([]);
      expect(looseOf(root)).toEqual([]);
      expect(filesUnder(path.join(root, 'tmp'))).toEqual([]);
    });
  });

  describe('a put of a chunk already packed', () => {
    it('answers created: false, writes no file of its own and refreshes the chunk for garbage collection', async () => {
      const chunk = randomChunk(800);
      await store.putMany([chunk]);
      const [before] = await listAll(store);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.put(chunk.hash, chunk.bytes)).toEqual({ ok: true, created: false, size: 800 });
      expect(looseOf(root)).toEqual([]);
      expect(filesUnder(path.join(root, 'tmp'))).toEqual([]);
      const [after] = await listAll(store);
      expect(after!.modifiedAt.getTime()).toBeGreaterThan(before!.modifiedAt.getTime());
    });
  });

  describe('a chunk both packed and a file of its own (as racing puts can leave it)', () => {
    let chunk: TestChunk;
    beforeEach(async () => {
      chunk = randomChunk(600);
      await store.putMany([chunk, randomChunk(600)]);
      fs.mkdirSync(path.dirname(loosePath(root, chunk.hash)), { recursive: true });
      fs.writeFileSync(loosePath(root, chunk.hash), chunk.bytes);
    });

    it('is listed once', async () => {
      expect((await listAll(store)).filter((c) => c.hash === chunk.hash)).toEqual([expect.objectContaining({ hash: chunk.hash, size: 600 })]);
    });

    it('is gone in both places once deleted', async () => {
      await store.delete(chunk.hash);
      expect(fs.existsSync(loosePath(root, chunk.hash))).toBe(false);
      await expectLacks(store, [chunk]);
      expect((await listAll(store)).map((c) => c.hash)).not.toContain(chunk.hash);
    });
  });

  describe('two stores on one root and database (two server processes)', () => {
    let other: PackedStore;
    beforeEach(async () => {
      other = await openStore(root, 1000);
    });

    it('read the chunks each other packs', async () => {
      const chunks = smallChunks(6);
      await store.putMany(chunks);
      await expectHolds(other, chunks);
      for (const chunk of chunks) expect(await other.stat(chunk.hash)).toEqual({ size: 500 });
      expect(await other.storedAmong(chunks.map((c) => c.hash))).toEqual(new Set(chunks.map((c) => c.hash)));
    });

    it('no longer find a packed chunk the other deleted', async () => {
      const chunks = smallChunks(3);
      await store.putMany(chunks);
      await other.delete(chunks[0]!.hash);
      await expectLacks(store, [chunks[0]!]);
      await expectHolds(store, chunks.slice(1));
    });

    it('packing the same chunks at once, create each once between them and keep one copy readable', async () => {
      const chunks = smallChunks(10);
      const [a, b] = await Promise.all([store.putMany(chunks), other.putMany(chunks)]);
      if (!a.ok || !b.ok) throw new Error('a putMany of good chunks failed');
      for (const [i] of chunks.entries()) expect(Number(a.results[i]!.created) + Number(b.results[i]!.created)).toBe(1);
      expect((await listAll(store)).map((c) => c.hash)).toEqual(chunks.map((c) => c.hash).sort());
      await expectHolds(other, chunks);
    });
  });

  describe('storedAmong', () => {
    it('names the loose and the packed chunks it is asked about, and not the absent ones', async () => {
      const byPut = randomChunk(300);
      const [packed, large] = [randomChunk(300), randomChunk(2000)];
      const absent = [randomChunk(300), randomChunk(2000)];
      await store.put(byPut.hash, byPut.bytes);
      await store.putMany([packed!, large!]);
      expect(looseOf(root)).toHaveLength(2);
      expect(packsOf(root)).toHaveLength(1);
      const asked = [absent[0]!, byPut, packed!, absent[1]!, large!].map((c) => c.hash);
      expect(await store.storedAmong(asked)).toEqual(new Set([byPut.hash, packed!.hash, large!.hash]));
    });
  });

  describe('compaction', () => {
    it('rewrites a mostly dead pack with its live chunks, then removes it once nothing is live', async () => {
      const chunks = smallChunks(10);
      await store.putMany(chunks);
      const [oldPack] = packsOf(root);
      const oldSize = fs.statSync(path.join(root, 'packs', oldPack!)).size;
      const [live, dead] = [chunks.slice(0, 2), chunks.slice(2)];
      for (const chunk of dead) await store.delete(chunk.hash);

      const first = await store.compact({ before: inAMinute() });
      expect(first).toMatchObject({ packsRewritten: 1, packsRemoved: 0 });
      expect(first.reclaimedBytes).toBeGreaterThan(0);
      const packs = packsOf(root);
      expect(packs).toHaveLength(1);
      expect(packs).not.toContain(oldPack);
      expect(fs.statSync(path.join(root, 'packs', packs[0]!)).size).toBeLessThan(oldSize);
      await expectHolds(store, live);
      await expectLacks(store, dead);

      for (const chunk of live) await store.delete(chunk.hash);
      expect(await store.compact({ before: inAMinute() })).toMatchObject({ packsRewritten: 0, packsRemoved: 1 });
      expect(packsOf(root)).toEqual([]);
      await expectLacks(store, chunks);
    });

    it('gives back as many bytes as the pack files shrink by', async () => {
      const chunks = smallChunks(10);
      await store.putMany(chunks);
      for (const chunk of chunks.slice(3)) await store.delete(chunk.hash);
      const sizeBefore = packsOf(root).reduce((sum, name) => sum + fs.statSync(path.join(root, 'packs', name)).size, 0);
      const report = await store.compact({ before: inAMinute() });
      const sizeAfter = packsOf(root).reduce((sum, name) => sum + fs.statSync(path.join(root, 'packs', name)).size, 0);
      expect(report.reclaimedBytes).toBe(sizeBefore - sizeAfter);
    });

    it('in a dry run changes nothing, and reports what the real run then does', async () => {
      const chunks = smallChunks(10);
      await store.putMany(chunks);
      const emptied = smallChunks(4);
      await store.putMany(emptied);
      for (const chunk of [...chunks.slice(2), ...emptied]) await store.delete(chunk.hash);
      const packs = packsOf(root);

      const dry = await store.compact({ before: inAMinute(), dryRun: true });
      expect(dry).toMatchObject({ packsRewritten: 1, packsRemoved: 1 });
      expect(packsOf(root)).toEqual(packs);
      await expectHolds(store, chunks.slice(0, 2));

      const real: CompactReport = await store.compact({ before: inAMinute() });
      expect(real).toEqual(dry);
    });

    it('leaves alone a pack written after `before`', async () => {
      const chunks = smallChunks(10);
      await store.putMany(chunks);
      for (const chunk of chunks.slice(1)) await store.delete(chunk.hash);
      const packs = packsOf(root);
      expect(await store.compact({ before: aMinuteAgo() })).toEqual({ packsRewritten: 0, packsRemoved: 0, reclaimedBytes: 0 });
      expect(packsOf(root)).toEqual(packs);
      await expectHolds(store, chunks.slice(0, 1));
    });

    it('leaves alone a pack more than half live', async () => {
      const chunks = smallChunks(10);
      await store.putMany(chunks);
      for (const chunk of chunks.slice(0, 4)) await store.delete(chunk.hash);
      const packs = packsOf(root);
      expect(await store.compact({ before: inAMinute() })).toEqual({ packsRewritten: 0, packsRemoved: 0, reclaimedBytes: 0 });
      expect(packsOf(root)).toEqual(packs);
    });

    it('leaves alone a pack nothing was deleted from, however small its chunks', async () => {
      // Files smaller than the chunker's minimum are chunks of their own: tiny chunks are common.
      const chunks = smallChunks(10, 20);
      await store.putMany(chunks);
      const packs = packsOf(root);
      expect(await store.compact({ before: inAMinute() })).toEqual({ packsRewritten: 0, packsRemoved: 0, reclaimedBytes: 0 });
      expect(packsOf(root)).toEqual(packs);
    });
  });

  describe('a pack file the index does not know (a crash between its write and its record)', () => {
    let chunks: TestChunk[];
    let orphan: string;
    beforeEach(async () => {
      chunks = smallChunks(4);
      await store.putMany(chunks);
      const [indexed] = packsOf(root);
      orphan = path.join(root, 'packs', `${newPackId(new Date())}.pack`);
      fs.copyFileSync(path.join(root, 'packs', indexed!), orphan);
    });

    it('is removed by compaction once older than `before`, and counted', async () => {
      const old = new Date(Date.now() - 60 * 60_000);
      fs.utimesSync(orphan, old, old);
      const size = fs.statSync(orphan).size;
      expect(await store.compact({ before: aMinuteAgo() })).toEqual({ packsRewritten: 0, packsRemoved: 1, reclaimedBytes: size });
      expect(fs.existsSync(orphan)).toBe(false);
      expect(packsOf(root)).toHaveLength(1);
      await expectHolds(store, chunks);
    });

    it('is only counted by a dry run', async () => {
      const old = new Date(Date.now() - 60 * 60_000);
      fs.utimesSync(orphan, old, old);
      expect(await store.compact({ before: aMinuteAgo(), dryRun: true })).toMatchObject({ packsRemoved: 1 });
      expect(fs.existsSync(orphan)).toBe(true);
    });

    it('is kept while younger than `before`: its record may still be on its way', async () => {
      expect(await store.compact({ before: aMinuteAgo() })).toEqual({ packsRewritten: 0, packsRemoved: 0, reclaimedBytes: 0 });
      expect(fs.existsSync(orphan)).toBe(true);
      await expectHolds(store, chunks);
    });
  });

  describe('readers racing compaction', () => {
    it('always get every live chunk whole, from another store on the same root', async () => {
      const reader = await openStore(root, 1000);
      const live: TestChunk[] = [];
      for (let round = 0; round < 20; round++) {
        const batch = smallChunks(12);
        await store.putMany(batch);
        for (const chunk of batch.slice(3)) await reader.delete(chunk.hash);
        live.push(...batch.slice(0, 3));
        const hashes = live.map((c) => c.hash);
        let compacted = false;
        const compaction = store.compact({ before: inAMinute() }).finally(() => {
          compacted = true;
        });
        // Reading without pause until compaction is over covers every moment of it: before the
        // move, between the index commit and the old file's removal, and after.
        const readUntilCompacted = async (): Promise<number> => {
          let reads = 0;
          do {
            const read = await reader.getMany(hashes);
            reads++;
            expect(read.size, `round ${round}`).toBe(live.length);
            for (const chunk of live) expect(Buffer.from(read.get(chunk.hash)!).equals(chunk.bytes), `round ${round}`).toBe(true);
          } while (!compacted);
          return reads;
        };
        const [report] = await Promise.all([compaction, readUntilCompacted(), readUntilCompacted()]);
        expect(report.packsRewritten, `round ${round}`).toBe(1);
      }
      await expectHolds(reader, live);
    });
  });
});
