import * as Minio from 'minio';
import { assertChunkHash } from './body.js';

/** Where things live in the bucket. Staging keys are per upload and never a chunk's own key. */
export interface S3Layout {
  readonly chunksRoot: string;
  readonly stagingRoot: string;
  chunkKey(hash: string): string;
  stagingKey(hash: string, stagingId: string): string;
}

const STAGING_ID = /^[0-9a-f]{32}$/;

export const s3Layout = (prefix = ''): S3Layout => {
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const chunksRoot = `${base}chunks/`;
  const stagingRoot = `${base}staging/`;
  return {
    chunksRoot,
    stagingRoot,
    chunkKey: (hash) => {
      assertChunkHash(hash);
      return `${chunksRoot}${hash.slice(0, 2)}/${hash}`;
    },
    stagingKey: (hash, stagingId) => {
      assertChunkHash(hash);
      if (!STAGING_ID.test(stagingId)) throw new TypeError(`not a staging id: ${JSON.stringify(stagingId)}`);
      return `${stagingRoot}${hash}/${stagingId}`;
    },
  };
};

export const isS3ErrorCode = (error: unknown, ...codes: string[]): boolean =>
  error instanceof Minio.S3Error && codes.includes(error.code ?? '');

/** HEAD answers a bare 404 (code NotFound); GET answers NoSuchKey. */
export const isMissingObject = (error: unknown): boolean => isS3ErrorCode(error, 'NotFound', 'NoSuchKey');
