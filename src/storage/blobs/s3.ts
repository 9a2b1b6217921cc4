import { Readable } from 'node:stream';
import type * as Minio from 'minio';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash } from '../../domain/ids.js';
import { assertByteRange, assertChunkHash, drainHashed, judge } from './body.js';
import type { BlobBody, BlobStore, ByteRange, ChunkStat, PresignCapability, PutOptions, PutResult, StoredChunk } from './port.js';
import { createS3Presign } from './s3-presign.js';
import { isMissingObject, isS3ErrorCode, s3Layout } from './s3-layout.js';

export { s3ConfigFromEnv, S3ConfigError, type S3Config } from './s3-config.js';

export interface S3BlobStoreOptions {
  readonly client: Minio.Client;
  readonly bucket: string;
  /** Keys start with this ("strata/"), so one bucket can serve several deployments. */
  readonly prefix?: string;
  /** Where to create the bucket when it does not exist yet. */
  readonly region?: string;
}

const ensureBucket = async (client: Minio.Client, bucket: string, region: string): Promise<void> => {
  if (await client.bucketExists(bucket)) return;
  try {
    await client.makeBucket(bucket, region);
  } catch (error) {
    // Another node starting at the same moment won the race: that is the outcome we wanted.
    if (!isS3ErrorCode(error, 'BucketAlreadyOwnedByYou')) throw error;
  }
};

/**
 * Chunks live at <prefix>chunks/<aa>/<hash>. A put verifies the bytes before sending anything: the
 * minio client reads any object below its 64 MiB part size into memory before uploading it anyway,
 * so a staging key plus server-side copy would hold the same memory and cost two more requests.
 * This way the chunk's key only ever receives verified bytes (an S3 PUT is atomic), and a rejected
 * body costs the store nothing. Memory per put is bounded by maxBytes.
 */
export const createS3BlobStore = async (
  options: S3BlobStoreOptions,
): Promise<BlobStore & { readonly presign: PresignCapability }> => {
  const { client, bucket } = options;
  const layout = s3Layout(options.prefix);
  await ensureBucket(client, bucket, options.region ?? 'us-east-1');

  const stat = async (hash: ChunkHash): Promise<ChunkStat | null> => {
    try {
      return { size: (await client.statObject(bucket, layout.chunkKey(hash))).size };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  };

  const put = async (hash: ChunkHash, body: BlobBody, putOptions?: PutOptions): Promise<PutResult> => {
    assertChunkHash(hash);
    const limit = putOptions?.maxBytes ?? MAX_CHUNK_BYTES;
    const pieces: Buffer[] = [];
    const verdict = judge(await drainHashed(body, limit, (piece) => void pieces.push(Buffer.from(piece))), hash, limit);
    if (!verdict.ok) return verdict;
    const existed = (await stat(hash)) !== null;
    // Rewriting identical bytes over an existing chunk refreshes LastModified for GC on every
    // S3-compatible store; a copy onto itself does not on all of them.
    await client.putObject(bucket, layout.chunkKey(hash), Buffer.concat(pieces, verdict.size), verdict.size, {
      'Content-Type': 'application/octet-stream',
    });
    return { ok: true, created: !existed, size: verdict.size };
  };

  const get = async (hash: ChunkHash, range?: ByteRange): Promise<Readable | null> => {
    if (range !== undefined) assertByteRange(range);
    const key = layout.chunkKey(hash);
    try {
      if (range === undefined) return await client.getObject(bucket, key);
      return await client.getPartialObject(bucket, key, range.start, range.end - range.start + 1);
    } catch (error) {
      if (isMissingObject(error)) return null;
      // S3 answers 416 for a range starting past the end; the port promises no bytes instead.
      if (isS3ErrorCode(error, 'InvalidRange')) return Readable.from([]);
      throw error;
    }
  };

  const remove = async (hash: ChunkHash): Promise<void> => {
    await client.removeObject(bucket, layout.chunkKey(hash));
  };

  async function* list(): AsyncIterable<StoredChunk> {
    for await (const item of client.listObjectsV2(bucket, layout.chunksRoot, true) as AsyncIterable<Minio.BucketItem>) {
      if (item.name === undefined) continue;
      const hash = item.name.slice(item.name.lastIndexOf('/') + 1);
      if (ChunkHash.is(hash) && layout.chunkKey(hash) === item.name)
        yield { hash, size: item.size, modifiedAt: item.lastModified };
    }
  }

  const ping = async (): Promise<void> => {
    if (!(await client.bucketExists(bucket))) throw new Error(`S3 bucket ${bucket} does not exist`);
  };

  const presign = createS3Presign({ client, bucket, layout, put });
  return { put, stat, get, delete: remove, list, ping, presign };
};
