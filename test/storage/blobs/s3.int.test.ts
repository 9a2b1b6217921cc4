import crypto from 'node:crypto';
import type * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3BlobStore } from '../../../src/storage/blobs/s3.js';
import { randomChunk } from './chunks.js';
import { blobStoreContract } from './contract.js';
import { startS3rver, type RunningS3rver } from './s3rver-harness.js';

let s3: RunningS3rver;
let client: Minio.Client;
beforeAll(async () => {
  s3 = await startS3rver();
  client = s3.client();
});
afterAll(async () => s3.dispose());

const freshBucket = (): string => `strata-${crypto.randomBytes(6).toString('hex')}`;

const keysIn = async (bucket: string): Promise<string[]> => {
  const keys: string[] = [];
  for await (const item of client.listObjectsV2(bucket, '', true) as AsyncIterable<Minio.BucketItem>) if (item.name) keys.push(item.name);
  return keys.sort();
};

describe('the S3 blob store', () => {
  blobStoreContract(() => createS3BlobStore({ client, bucket: freshBucket() }), { presign: true });
});

describe('the S3 blob store under a key prefix', () => {
  blobStoreContract(() => createS3BlobStore({ client, bucket: freshBucket(), prefix: 'tenant-a' }), { presign: true });
});

describe('an S3 blob store', () => {
  it('creates its bucket when it starts, and starting twice is fine', async () => {
    const bucket = freshBucket();
    await createS3BlobStore({ client, bucket });
    await createS3BlobStore({ client, bucket });
    expect(await client.bucketExists(bucket)).toBe(true);
  });

  it('keeps a chunk at <prefix>/chunks/<aa>/<hash> and a staged upload apart from it', async () => {
    const bucket = freshBucket();
    const store = await createS3BlobStore({ client, bucket, prefix: 'strata/' });
    const stored = randomChunk(100);
    const staged = randomChunk(100);
    await store.put(stored.hash, stored.bytes);
    const { url, stagingId } = await store.presign.putUrl(staged.hash, 60);
    await fetch(url, { method: 'PUT', body: staged.bytes });
    expect(await keysIn(bucket)).toEqual(
      [`strata/chunks/${stored.hash.slice(0, 2)}/${stored.hash}`, `strata/staging/${staged.hash}/${stagingId}`].sort(),
    );
  });

  it('sees only its own prefix when two stores share a bucket', async () => {
    const bucket = freshBucket();
    const a = await createS3BlobStore({ client, bucket, prefix: 'a' });
    const b = await createS3BlobStore({ client, bucket, prefix: 'b' });
    const chunk = randomChunk(100);
    await a.put(chunk.hash, chunk.bytes);
    expect(await b.stat(chunk.hash)).toBeNull();
    for await (const listed of b.list()) expect.unreachable(`b listed ${listed.hash}`);
  });

  it('fails ping once its bucket is gone', async () => {
    const bucket = freshBucket();
    const store = await createS3BlobStore({ client, bucket });
    await store.ping();
    await client.removeBucket(bucket);
    await expect(store.ping()).rejects.toThrow(/does not exist/);
  });
});
