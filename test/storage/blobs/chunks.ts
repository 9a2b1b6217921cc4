import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { ChunkHash } from '../../../src/domain/ids.js';

export interface TestChunk {
  readonly hash: ChunkHash;
  readonly bytes: Buffer;
}

export const hashOf = (bytes: Uint8Array): ChunkHash => {
  const hex = crypto.createHash('sha256').update(bytes).digest('hex');
  if (!ChunkHash.is(hex)) throw new Error('not a hash');
  return hex;
};

export const chunkOf = (bytes: Buffer): TestChunk => ({ hash: hashOf(bytes), bytes });

export const randomChunk = (size = 64 * 1024): TestChunk => chunkOf(crypto.randomBytes(size));

/** The bytes as a stream of small pieces, the way an HTTP body arrives. */
export const streamOf = (bytes: Buffer, pieceSize = 4096): Readable => {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceSize) pieces.push(bytes.subarray(at, at + pieceSize));
  return Readable.from(pieces);
};

export const readAll = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece));
  return Buffer.concat(pieces);
};

/** Pieces of `pieceSize` zero bytes forever, counting how many were pulled. */
export const endlessBody = (pieceSize: number): { body: AsyncIterable<Uint8Array>; pulled: () => number } => {
  let pulled = 0;
  async function* body(): AsyncIterable<Uint8Array> {
    for (;;) {
      pulled += 1;
      yield new Uint8Array(pieceSize);
    }
  }
  return { body: body(), pulled: () => pulled };
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
