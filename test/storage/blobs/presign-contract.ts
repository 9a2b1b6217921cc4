import { describe, expect, it } from 'vitest';
import type { BlobStore, PresignCapability, StoredChunk } from '../../../src/storage/blobs/port.js';
import { randomChunk, readAll } from './chunks.js';

const upload = async (url: string, bytes: Buffer): Promise<void> => {
  const response = await fetch(url, { method: 'PUT', body: bytes });
  expect(response.ok).toBe(true);
};

/** Direct-to-store transfers, for stores that offer them. Runs inside blobStoreContract. */
export const presignContract = (current: () => BlobStore, listAll: (store: BlobStore) => Promise<StoredChunk[]>): void => {
  const presign = (): PresignCapability => current().presign!;

  describe('a presigned upload', () => {
    it('is invisible until verified, then stored as the chunk', async () => {
      const chunk = randomChunk(100_000);
      const staged = await presign().putUrl(chunk.hash, 600);
      await upload(staged.url, chunk.bytes);
      expect(await current().stat(chunk.hash)).toBeNull();
      expect(await listAll(current())).toEqual([]);

      expect(await presign().verifyStaged(chunk.hash, staged.stagingId)).toEqual({ ok: true, created: true, size: 100_000 });
      expect((await readAll((await current().get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
      expect(await presign().verifyStaged(chunk.hash, staged.stagingId)).toEqual({ ok: false, code: 'not_found' });
    });

    it('with other bytes is discarded and never stored', async () => {
      const claimed = randomChunk(1000);
      const sent = randomChunk(1000);
      const staged = await presign().putUrl(claimed.hash, 600);
      await upload(staged.url, sent.bytes);
      expect(await presign().verifyStaged(claimed.hash, staged.stagingId)).toEqual({ ok: false, code: 'hash_mismatch', actual: sent.hash });
      expect(await current().stat(claimed.hash)).toBeNull();
      expect(await listAll(current())).toEqual([]);
      expect(await presign().verifyStaged(claimed.hash, staged.stagingId)).toEqual({ ok: false, code: 'not_found' });
    });

    it('over the limit is discarded', async () => {
      const chunk = randomChunk(5000);
      const staged = await presign().putUrl(chunk.hash, 600);
      await upload(staged.url, chunk.bytes);
      expect(await presign().verifyStaged(chunk.hash, staged.stagingId, { maxBytes: 4096 })).toEqual({
        ok: false,
        code: 'payload_too_large',
        limit: 4096,
      });
      expect(await current().stat(chunk.hash)).toBeNull();
      expect(await presign().verifyStaged(chunk.hash, staged.stagingId)).toEqual({ ok: false, code: 'not_found' });
    });

    it('of an already stored chunk is still verified, and answers created: false', async () => {
      const chunk = randomChunk(1000);
      await current().put(chunk.hash, chunk.bytes);
      const honest = await presign().putUrl(chunk.hash, 600);
      const forger = await presign().putUrl(chunk.hash, 600);
      expect(forger.stagingId).not.toBe(honest.stagingId);
      await upload(honest.url, chunk.bytes);
      await upload(forger.url, randomChunk(1000).bytes);
      expect(await presign().verifyStaged(chunk.hash, forger.stagingId)).toMatchObject({ ok: false, code: 'hash_mismatch' });
      expect(await presign().verifyStaged(chunk.hash, honest.stagingId)).toEqual({ ok: true, created: false, size: 1000 });
      expect((await readAll((await current().get(chunk.hash))!)).equals(chunk.bytes)).toBe(true);
    });

    it('that was never made answers not_found, and a forged staging id is refused', async () => {
      const { hash } = randomChunk(10);
      expect(await presign().verifyStaged(hash, 'ab'.repeat(16))).toEqual({ ok: false, code: 'not_found' });
      await expect(presign().verifyStaged(hash, '../../chunks/x')).rejects.toThrow(TypeError);
    });

    it('left unverified is swept once old enough', async () => {
      const chunk = randomChunk(1000);
      const staged = await presign().putUrl(chunk.hash, 600);
      await upload(staged.url, chunk.bytes);
      expect(await presign().sweepStaged(new Date(Date.now() - 60_000))).toBe(0);
      expect(await presign().sweepStaged(new Date(Date.now() + 60_000))).toBe(1);
      expect(await presign().verifyStaged(chunk.hash, staged.stagingId)).toEqual({ ok: false, code: 'not_found' });
    });
  });

  describe('a presigned download', () => {
    it('serves the stored chunk', async () => {
      const chunk = randomChunk(50_000);
      await current().put(chunk.hash, chunk.bytes);
      const response = await fetch(await presign().getUrl(chunk.hash, 600));
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(chunk.bytes)).toBe(true);
    });
  });
};
