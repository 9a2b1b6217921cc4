import * as t from 'io-ts';
import { ChunkHash, NonNegativeInt } from './ids.js';

/** Largest chunk the server accepts; clients chunk at 4 MiB max, this leaves headroom. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export const ChunkRef = t.type({ hash: ChunkHash, size: NonNegativeInt });
export type ChunkRef = t.TypeOf<typeof ChunkRef>;

export const chunkTotal = (chunks: readonly ChunkRef[]): number =>
  chunks.reduce((sum, c) => sum + c.size, 0);
