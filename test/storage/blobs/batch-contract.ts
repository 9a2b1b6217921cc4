import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../../../src/domain/chunks.js';
import type { BlobStore, StoredChunk } from '../../../src/storage/blobs/port.js';
import { chunkOf, randomChunk, readAll, sleep, type TestChunk } from './chunks.js';

/** A store offering the batch calls of the port (putMany, getMany, storedAmong). */
export type BatchBlobStore = BlobStore & Required<Pick<BlobStore, 'putMany' | 'getMany' | 'storedAmong'>>;

export const offersBatches = (store: BlobStore): store is BatchBlobStore =>
  store.putMany !== undefined && store.getMany !== undefined && store.storedAmong !== undefined;

export const listAll = async (store: BlobStore): Promise<StoredChunk[]> => {
  const all: StoredChunk[] = [];
  for await (const chunk of store.list()) all.push(chunk);
  return all.sort((a, b) => a.hash.localeCompare(b.hash));
};

const bytesOf = async (store: BlobStore, chunk: TestChunk): Promise<Buffer | null> => {
  const stream = await store.get(chunk.hash);
  return stream === null ? null : readAll(stream);
};

/** The last put of each chunk, as list() reports it. */
const modifiedAtOf = async (store: BlobStore): Promise<Map<string, number>> =>
  new Map((await listAll(store)).map((c) => [c.hash, c.modifiedAt.getTime()]));

/**
 * What every store offering putMany, getMany and storedAmong must do, whatever keeps the bytes.
 * `makeStore` gives a fresh, empty store.
 */
export const batchContract = (makeStore: () => Promise<BlobStore>): void => {
  let store: BatchBlobStore;
  beforeEach(async () => {
    const made = await makeStore();
    if (!offersBatches(made)) throw new Error('the store offers no batch calls');
    store = made;
  });

  // Small chunks, an empty one and one above the filesystem store's packing threshold (64 KiB).
  const batch = (): TestChunk[] => [randomChunk(10), randomChunk(1000), chunkOf(Buffer.alloc(0)), randomChunk(100_000), randomChunk(4096)];

  describe('a putMany', () => {
    it('stores every chunk, and get, stat, getMany and storedAmong give each back whole', async () => {
      const chunks = batch();
      const result = await store.putMany(chunks);
      expect(result).toEqual({ ok: true, results: chunks.map((c) => ({ created: true, size: c.bytes.length })) });
      for (const chunk of chunks) {
        expect(await store.stat(chunk.hash)).toEqual({ size: chunk.bytes.length });
        expect((await bytesOf(store, chunk))?.equals(chunk.bytes)).toBe(true);
      }
      const many = await store.getMany(chunks.map((c) => c.hash));
      expect([...many.keys()].sort()).toEqual(chunks.map((c) => c.hash).sort());
      for (const chunk of chunks) expect(Buffer.from(many.get(chunk.hash)!).equals(chunk.bytes)).toBe(true);
      expect(await store.storedAmong(chunks.map((c) => c.hash))).toEqual(new Set(chunks.map((c) => c.hash)));
    });

    it('answers created: false for chunks already stored, by putMany or by put', async () => {
      const chunks = batch();
      const byPut = randomChunk(500);
      await store.putMany(chunks);
      await store.put(byPut.hash, byPut.bytes);
      const again = [...chunks, byPut];
      expect(await store.putMany(again)).toEqual({ ok: true, results: again.map((c) => ({ created: false, size: c.bytes.length })) });
      for (const chunk of again) expect((await bytesOf(store, chunk))?.equals(chunk.bytes)).toBe(true);
    });

    it('creates a hash given twice in one call once, answering in the order given', async () => {
      const [a, b, c] = [randomChunk(300), randomChunk(70_000), randomChunk(20)];
      const result = await store.putMany([a!, b!, a!, c!, b!]);
      expect(result).toEqual({
        ok: true,
        results: [
          { created: true, size: 300 },
          { created: true, size: 70_000 },
          { created: false, size: 300 },
          { created: true, size: 20 },
          { created: false, size: 70_000 },
        ],
      });
      expect((await listAll(store)).map((s) => s.hash)).toEqual([a!, b!, c!].map((x) => x.hash).sort());
    });

    it('answers an empty batch with no results', async () => {
      expect(await store.putMany([])).toEqual({ ok: true, results: [] });
      expect(await listAll(store)).toEqual([]);
    });
  });

  describe('a putMany with a bad record', () => {
    it('keeps none of the batch when a record does not match its hash, naming it and its real hash', async () => {
      const chunks = batch();
      const sent = randomChunk(1000);
      const claimed = randomChunk(1000);
      const records = [chunks[0]!, chunks[1]!, { hash: claimed.hash, bytes: sent.bytes }, chunks[3]!, chunks[4]!];
      expect(await store.putMany(records)).toEqual({ ok: false, code: 'hash_mismatch', actual: sent.hash, index: 2 });
      for (const chunk of [...chunks, sent, claimed]) expect(await store.stat(chunk.hash)).toBeNull();
      expect(await listAll(store)).toEqual([]);
    });

    it('keeps none of the batch when a record is larger than MAX_CHUNK_BYTES', async () => {
      const small = randomChunk(100);
      const huge = chunkOf(Buffer.alloc(MAX_CHUNK_BYTES + 1));
      const after = randomChunk(100);
      expect(await store.putMany([small, huge, after])).toEqual({ ok: false, code: 'payload_too_large', limit: MAX_CHUNK_BYTES, index: 1 });
      for (const chunk of [small, huge, after]) expect(await store.stat(chunk.hash)).toBeNull();
      expect(await listAll(store)).toEqual([]);
    });
  });

  describe('chunks stored by putMany', () => {
    let chunks: TestChunk[];
    beforeEach(async () => {
      chunks = batch();
      await store.putMany(chunks);
    });

    it('leave out of getMany and storedAmong the hashes the store does not hold', async () => {
      const absent = [randomChunk(10), randomChunk(100_000)];
      const asked = [absent[0]!.hash, chunks[0]!.hash, absent[1]!.hash, chunks[3]!.hash];
      const many = await store.getMany(asked);
      expect([...many.keys()].sort()).toEqual([chunks[0]!.hash, chunks[3]!.hash].sort());
      expect(await store.storedAmong(asked)).toEqual(new Set([chunks[0]!.hash, chunks[3]!.hash]));
      expect(await store.getMany(absent.map((c) => c.hash))).toEqual(new Map());
      expect(await store.storedAmong([])).toEqual(new Set());
    });

    it('serve an inclusive byte range, clamped at the end of the chunk', async () => {
      for (const chunk of [chunks[1]!, chunks[3]!]) {
        const size = chunk.bytes.length;
        const range = async (start: number, end: number) => readAll((await store.get(chunk.hash, { start, end }))!);
        expect((await range(0, 1)).equals(chunk.bytes.subarray(0, 2))).toBe(true);
        expect((await range(500, 500)).equals(chunk.bytes.subarray(500, 501))).toBe(true);
        expect((await range(100, 199)).equals(chunk.bytes.subarray(100, 200))).toBe(true);
        expect((await range(size - 10, size + 5000)).equals(chunk.bytes.subarray(size - 10))).toBe(true);
        expect((await range(size, size + 10)).length).toBe(0);
        await expect(store.get(chunk.hash, { start: 5, end: 4 })).rejects.toThrow(RangeError);
      }
    });

    it('are gone from stat, get, getMany, storedAmong and list once deleted, the others kept', async () => {
      const [gone, kept] = [[chunks[0]!, chunks[3]!], [chunks[1]!, chunks[2]!, chunks[4]!]];
      for (const chunk of gone) await store.delete(chunk.hash);
      for (const chunk of gone) {
        expect(await store.stat(chunk.hash)).toBeNull();
        expect(await store.get(chunk.hash)).toBeNull();
        expect(await store.get(chunk.hash, { start: 0, end: 3 })).toBeNull();
      }
      const all = chunks.map((c) => c.hash);
      expect([...(await store.getMany(all)).keys()].sort()).toEqual(kept.map((c) => c.hash).sort());
      expect(await store.storedAmong(all)).toEqual(new Set(kept.map((c) => c.hash)));
      expect((await listAll(store)).map((c) => c.hash)).toEqual(kept.map((c) => c.hash).sort());
      for (const chunk of kept) expect((await bytesOf(store, chunk))?.equals(chunk.bytes)).toBe(true);
    });

    it('can be stored again after a delete', async () => {
      const chunk = chunks[1]!;
      await store.delete(chunk.hash);
      expect(await store.putMany([chunk])).toEqual({ ok: true, results: [{ created: true, size: chunk.bytes.length }] });
      expect((await bytesOf(store, chunk))?.equals(chunk.bytes)).toBe(true);
    });

    it('are listed exactly once each with their size, beside chunks stored by put', async () => {
      const byPut = [randomChunk(30), randomChunk(80_000)];
      for (const chunk of byPut) await store.put(chunk.hash, chunk.bytes);
      // The same chunks again, by both calls: still one entry each.
      await store.putMany([...chunks, ...byPut]);
      for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes);
      const listed = await listAll(store);
      const expected = [...chunks, ...byPut].map((c) => ({ hash: c.hash, size: c.bytes.length })).sort((a, b) => a.hash.localeCompare(b.hash));
      expect(listed.map(({ hash, size }) => ({ hash, size }))).toEqual(expected);
      for (const { modifiedAt } of listed) expect(Math.abs(modifiedAt.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('look freshly stored to garbage collection after a second putMany', async () => {
      const first = await modifiedAtOf(store);
      // Enough for every clock involved (file times, Postgres) to tell the two puts apart.
      await sleep(20);
      await store.putMany(chunks);
      const second = await modifiedAtOf(store);
      for (const chunk of chunks) expect(second.get(chunk.hash), `size ${chunk.bytes.length}`).toBeGreaterThan(first.get(chunk.hash)!);
    });
  });

  describe('chunks stored by put', () => {
    it('look freshly stored to garbage collection after a putMany of them', async () => {
      const chunks = batch();
      for (const chunk of chunks) await store.put(chunk.hash, chunk.bytes);
      const first = await modifiedAtOf(store);
      await sleep(20);
      expect(await store.putMany(chunks)).toMatchObject({ ok: true, results: chunks.map(() => ({ created: false })) });
      const second = await modifiedAtOf(store);
      for (const chunk of chunks) expect(second.get(chunk.hash), `size ${chunk.bytes.length}`).toBeGreaterThan(first.get(chunk.hash)!);
    });
  });
};
