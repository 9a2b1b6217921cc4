import path from 'node:path';
import * as Minio from 'minio';
import { withCircuitBreaker, type GuardedBlobStore } from './breaker.js';
import { createFilesystemBlobStore } from './filesystem.js';
import { createS3BlobStore, s3ConfigFromEnv } from './s3.js';

/** S3 when S3_* is configured, else the filesystem under dataDir/blobs; always behind the circuit breaker. */
export const blobStoreFromEnv = async (env: Readonly<Record<string, string | undefined>>, dataDir: string): Promise<GuardedBlobStore> => {
  const s3 = s3ConfigFromEnv(env);
  const store =
    s3 === null
      ? await createFilesystemBlobStore({ root: path.join(dataDir, 'blobs') })
      : await createS3BlobStore({ client: new Minio.Client(s3.client), bucket: s3.bucket, ...(env.S3_PREFIX ? { prefix: env.S3_PREFIX } : {}) });
  return withCircuitBreaker(store);
};
