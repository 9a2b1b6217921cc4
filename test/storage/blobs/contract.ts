import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../../../src/domain/chunks.js';
import { BlobBodyError } from '../../../src/storage/blobs/errors.js';
import type { BlobStore, StoredChunk } from '../../../src/storage/blobs/port.js';
import { chunkOf, endlessBody, hashOf, randomChunk, readAll, sleep, streamOf } from './chunks.js';
import { presignContract } from './presign-contract.js';

export interface ContractOptions {
  /** Whether the store offers direct-to-store transfers. */
  readonly presign: boolean;
}

const listAll = async (store: BlobStore): Promise<StoredChunk[]> => {
  const all: StoredChunk[] = [];
  for await (const chunk of store.list()) all.push(chunk);
  return all.sort((a, b) => a.hash.localeCompare(b.hash));
};

/** What every BlobStore must do, whatever keeps the bytes. `makeStore` gives a fresh, empty store. */
export const blobStoreContract = (makeStore: () => Promise<BlobStore>, options: ContractOptions): void => {
  let store: BlobStore;
  beforeEach(async () => {
    store = await makeStore();
  });

  describe('an empty store', () => {
    it('answers null for stat and get of a chunk it does not hold', async () => {
      const { hash } = randomChunk(10);
      expect(await store.stat(hash)).toBeNull();
      expect(await store.get(hash)).toBeNull();
      expect(await store.get(hash, { start: 0, end: 3 })).toBeNull();
    });

    it('lists nothing, deletes a missing chunk without complaint and answers ping', async () => {
      expect(await listAll(store)).toEqual([]);
      await store.delete(randomChunk(10).hash);
      await store.ping();
    });

    it(options.presign ? 'offers presigned transfers' : 'offers no presigned transfers', () => {
      expect(store.presign !== undefined).toBe(options.presign);
    });
  });

  describe('a put', () => {
    it('stores a streamed body and gives the bytes back', async () => {
      const chunk = randomChunk(300_000);
      expect(await store.put(chunk.hash, streamOf(chunk.bytes))).toEqual({ ok: true, created: true, size: 300_000 });
      expect(await store.stat(chunk.hash)).toEqual({ size: 300_000 });
      expect((await readAll((await store.get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
    });

    it('takes a buffer, an async iterable of pieces and an empty chunk alike', async () => {
      const whole = randomChunk(1000);
      const pieces = randomChunk(1000);
      const empty = chunkOf(Buffer.alloc(0));
      async function* inPieces(): AsyncIterable<Uint8Array> {
        yield new Uint8Array(pieces.bytes.subarray(0, 10));
        yield new Uint8Array(pieces.bytes.subarray(10));
      }
      expect(await store.put(whole.hash, whole.bytes)).toMatchObject({ ok: true, size: 1000 });
      expect(await store.put(pieces.hash, inPieces())).toMatchObject({ ok: true, size: 1000 });
      expect(await store.put(empty.hash, empty.bytes)).toMatchObject({ ok: true, size: 0 });
      expect((await readAll((await store.get(pieces.hash))!)).equals(pieces.bytes)).toBe(true);
      expect((await readAll((await store.get(empty.hash))!)).length).toBe(0);
    });

    it('serves an inclusive byte range, clamped at the end of the chunk', async () => {
      const chunk = randomChunk(1000);
      await store.put(chunk.hash, chunk.bytes);
      const range = async (start: number, end: number) => readAll((await store.get(chunk.hash, { start, end }))!);
      // Not bytes=0-0: s3rver answers it with the whole object (it reads the end 0 as "none").
      expect((await range(0, 1)).equals(chunk.bytes.subarray(0, 2))).toBe(true);
      expect((await range(500, 500)).equals(chunk.bytes.subarray(500, 501))).toBe(true);
      expect((await range(100, 199)).equals(chunk.bytes.subarray(100, 200))).toBe(true);
      expect((await range(990, 5000)).equals(chunk.bytes.subarray(990))).toBe(true);
      expect((await range(1000, 1010)).length).toBe(0);
      await expect(store.get(chunk.hash, { start: 5, end: 4 })).rejects.toThrow(RangeError);
    });

    it('rejects a body whose SHA-256 is another and keeps nothing', async () => {
      const claimed = randomChunk(1000);
      const sent = randomChunk(1000);
      const result = await store.put(claimed.hash, streamOf(sent.bytes));
      expect(result).toEqual({ ok: false, code: 'hash_mismatch', actual: sent.hash });
      expect(await store.stat(claimed.hash)).toBeNull();
      expect(await store.stat(sent.hash)).toBeNull();
      expect(await listAll(store)).toEqual([]);
    });

    it('stops reading as soon as the body passes maxBytes and keeps nothing', async () => {
      const endless = endlessBody(256);
      const result = await store.put(randomChunk(10).hash, endless.body, { maxBytes: 1024 });
      expect(result).toEqual({ ok: false, code: 'payload_too_large', limit: 1024 });
      expect(endless.pulled()).toBe(5);
      expect(await listAll(store)).toEqual([]);
    });

    it('limits a body to MAX_CHUNK_BYTES by default', async () => {
      const endless = endlessBody(1024 * 1024);
      const result = await store.put(randomChunk(10).hash, endless.body);
      expect(result).toEqual({ ok: false, code: 'payload_too_large', limit: MAX_CHUNK_BYTES });
      expect(endless.pulled()).toBe(MAX_CHUNK_BYTES / (1024 * 1024) + 1);
    });

    it('leaves the rest of an oversized stream unread rather than destroyed, so a 413 can still be sent', async () => {
      const body = streamOf(randomChunk(10_000).bytes, 1000);
      expect(await store.put(randomChunk(10).hash, body, { maxBytes: 2500 })).toMatchObject({ code: 'payload_too_large' });
      expect(body.destroyed).toBe(false);
      expect((await readAll(body)).length).toBeGreaterThan(0);
    });

    it('reports a failing body as BlobBodyError and keeps nothing', async () => {
      const chunk = randomChunk(1000);
      async function* failing(): AsyncIterable<Uint8Array> {
        yield new Uint8Array(chunk.bytes.subarray(0, 500));
        throw new Error('client went away');
      }
      await expect(store.put(chunk.hash, failing())).rejects.toBeInstanceOf(BlobBodyError);
      expect(await listAll(store)).toEqual([]);
    });
  });

  describe('a stored chunk', () => {
    const chunk = randomChunk(2000);
    beforeEach(async () => {
      await store.put(chunk.hash, chunk.bytes);
    });

    it('is accepted again, verified, with created: false', async () => {
      expect(await store.put(chunk.hash, streamOf(chunk.bytes))).toEqual({ ok: true, created: false, size: 2000 });
      const forged = randomChunk(2000).bytes;
      expect(await store.put(chunk.hash, forged)).toEqual({ ok: false, code: 'hash_mismatch', actual: hashOf(forged) });
      expect((await readAll((await store.get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
    });

    it('looks freshly stored to garbage collection after a re-put', async () => {
      const [before] = await listAll(store);
      await sleep(1100); // S3 keeps Last-Modified to the second
      await store.put(chunk.hash, chunk.bytes);
      const [after] = await listAll(store);
      expect(after!.modifiedAt.getTime()).toBeGreaterThan(before!.modifiedAt.getTime());
    });

    it('is deleted, and deleting it again is fine', async () => {
      await store.delete(chunk.hash);
      expect(await store.stat(chunk.hash)).toBeNull();
      expect(await store.get(chunk.hash)).toBeNull();
      await store.delete(chunk.hash);
      expect(await listAll(store)).toEqual([]);
    });

    it('is listed with its size and time, beside the others', async () => {
      const others = [randomChunk(10), randomChunk(20)];
      for (const other of others) await store.put(other.hash, other.bytes);
      const listed = await listAll(store);
      const expected = [chunk, ...others].map((c) => ({ hash: c.hash, size: c.bytes.length })).sort((a, b) => a.hash.localeCompare(b.hash));
      expect(listed.map(({ hash, size }) => ({ hash, size }))).toEqual(expected);
      for (const { modifiedAt } of listed) expect(Math.abs(modifiedAt.getTime() - Date.now())).toBeLessThan(60_000);
    });
  });

  describe('puts of one chunk racing each other', () => {
    it('all succeed and leave one intact copy', async () => {
      const chunk = randomChunk(500_000);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.put(chunk.hash, streamOf(chunk.bytes, 16_384))));
      for (const result of results) expect(result).toMatchObject({ ok: true, size: 500_000 });
      expect(results.filter((r) => r.ok && r.created).length).toBeGreaterThanOrEqual(1);
      expect((await listAll(store)).map((c) => c.hash)).toEqual([chunk.hash]);
      expect((await readAll((await store.get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
    });
  });

  if (options.presign) presignContract(() => store, listAll);
};
