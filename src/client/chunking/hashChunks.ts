import crypto from 'node:crypto';
import fs from 'node:fs';
import { ChunkHash, type NonNegativeInt } from '../../domain/ids.js';
import { chunkStream, DEFAULT_CHUNKING, type ChunkingParams } from './fastcdc.js';

/** One chunk of a file: what upload_request and commit take ({hash, size}), plus where it starts. */
export interface FileChunk {
  readonly hash: ChunkHash;
  readonly size: NonNegativeInt;
  readonly offset: NonNegativeInt;
}

export interface FileDescription {
  readonly size: NonNegativeInt;
  readonly chunks: readonly FileChunk[];
}

// Large reads keep most chunks inside one read (yielded as views, not copied) at the cost of one
// more MiB held next to the chunk in progress.
const READ_BYTES = 1024 * 1024;

const hexDigest = (hash: crypto.Hash): ChunkHash => {
  const digest = hash.digest('hex');
  if (!ChunkHash.is(digest)) throw new Error('unreachable: a SHA-256 hex digest is a ChunkHash');
  return digest;
};

/** Chunks and hashes a file in one streaming pass; memory stays near one chunk plus one read. */
export const describeFile = async (path: string, params: ChunkingParams = DEFAULT_CHUNKING): Promise<FileDescription> => {
  const chunks: FileChunk[] = [];
  let offset = 0;
  for await (const chunk of chunkStream(fs.createReadStream(path, { highWaterMark: READ_BYTES }), params)) {
    chunks.push({ hash: hexDigest(crypto.createHash('sha256').update(chunk)), size: chunk.length as NonNegativeInt, offset: offset as NonNegativeInt });
    offset += chunk.length;
  }
  return { size: offset as NonNegativeInt, chunks };
};

/** The file's content hash as the server computes it: SHA-256 over the raw chunk digests, in order. */
export const contentHash = (chunks: readonly { readonly hash: ChunkHash }[]): ChunkHash => {
  const hash = crypto.createHash('sha256');
  for (const chunk of chunks) hash.update(Buffer.from(chunk.hash, 'hex'));
  return hexDigest(hash);
};
