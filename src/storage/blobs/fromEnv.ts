import path from 'node:path';
import * as Minio from 'minio';
import type pg from 'pg';
import { withCircuitBreaker, type GuardedBlobStore } from './breaker.js';
import { createFilesystemBlobStore } from './filesystem.js';
import { createS3BlobStore, s3ConfigFromEnv } from './s3.js';

/**
 * S3 when S3_* is configured, else the filesystem under dataDir/blobs with its small chunks packed
 * (the pack index lives in pool's database); always behind the circuit breaker.
 */
export const blobStoreFromEnv = async (env: Readonly<Record<string, string | undefined>>, dataDir: string, pool: pg.Pool): Promise<GuardedBlobStore> => {
  const s3 = s3ConfigFromEnv(env);
  const store =
    s3 === null
      ? await createFilesystemBlobStore({ root: path.join(dataDir, 'blobs'), packs: { pool } })
      : await createS3BlobStore({ client: new Minio.Client(s3.client), bucket: s3.bucket, ...(env.S3_PREFIX ? { prefix: env.S3_PREFIX } : {}) });
  return withCircuitBreaker(store);
};
