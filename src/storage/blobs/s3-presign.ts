import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import type { ChunkHash } from '../../domain/ids.js';
import { BlobBodyError } from './errors.js';
import type { BlobStore, PresignCapability, PutOptions, VerifyStagedResult } from './port.js';
import { isMissingObject, type S3Layout } from './s3-layout.js';

interface S3PresignDeps {
  readonly client: Minio.Client;
  readonly bucket: string;
  readonly layout: S3Layout;
  readonly put: BlobStore['put'];
}

/**
 * Presigned uploads go to <prefix>staging/<hash>/<stagingId>, one key per upload, so two uploads of
 * one chunk cannot touch each other's bytes. verifyStaged streams the staged object through the
 * store's own put: the bytes hashed are the very bytes stored, even if the client PUTs again to
 * its URL meanwhile (a hash-then-copy would leave that window open).
 */
export const createS3Presign = ({ client, bucket, layout, put }: S3PresignDeps): PresignCapability => {
  const stagedSize = async (key: string): Promise<number | null> => {
    try {
      return (await client.statObject(bucket, key)).size;
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  };

  const promote = async (hash: ChunkHash, key: string, limit: number): Promise<VerifyStagedResult> => {
    let body: Readable;
    try {
      body = await client.getObject(bucket, key);
    } catch (error) {
      if (isMissingObject(error)) return { ok: false, code: 'not_found' };
      throw error;
    }
    try {
      return await put(hash, body, { maxBytes: limit });
    } catch (error) {
      // Here the body is the store's own object: failing to read it is the store's failure.
      throw error instanceof BlobBodyError ? error.cause : error;
    } finally {
      body.destroy();
    }
  };

  const verifyStaged = async (hash: ChunkHash, stagingId: string, options?: PutOptions): Promise<VerifyStagedResult> => {
    const key = layout.stagingKey(hash, stagingId);
    const limit = options?.maxBytes ?? MAX_CHUNK_BYTES;
    const size = await stagedSize(key);
    if (size === null) return { ok: false, code: 'not_found' };
    // A presigned PUT cannot bound its size: refuse an oversized object without downloading it.
    const result: VerifyStagedResult =
      size > limit ? { ok: false, code: 'payload_too_large', limit } : await promote(hash, key, limit);
    await client.removeObject(bucket, key);
    return result;
  };

  const sweepStaged = async (before: Date): Promise<number> => {
    let removed = 0;
    for await (const item of client.listObjectsV2(bucket, layout.stagingRoot, true) as AsyncIterable<Minio.BucketItem>) {
      if (item.name === undefined || item.lastModified >= before) continue;
      await client.removeObject(bucket, item.name);
      removed += 1;
    }
    return removed;
  };

  return {
    putUrl: async (hash, expiresSeconds) => {
      const stagingId = crypto.randomBytes(16).toString('hex');
      const url = await client.presignedPutObject(bucket, layout.stagingKey(hash, stagingId), expiresSeconds);
      return { url, stagingId };
    },
    getUrl: (hash, expiresSeconds) => client.presignedGetObject(bucket, layout.chunkKey(hash), expiresSeconds),
    verifyStaged,
    sweepStaged,
  };
};
