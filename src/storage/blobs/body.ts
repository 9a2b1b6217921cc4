import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { ChunkHash } from '../../domain/ids.js';
import { BlobBodyError } from './errors.js';
import type { BlobBody, ByteRange, PutRejection } from './port.js';

export type Drained = { readonly tooLarge: true } | { readonly tooLarge: false; readonly digest: ChunkHash; readonly size: number };

const piecesOf = (body: BlobBody): AsyncIterable<unknown> => {
  if (body instanceof Uint8Array) return (async function* () { yield body; })();
  // Stopping early must not destroy the request: the gateway still has to answer 413 on it.
  if (body instanceof Readable) return body.iterator({ destroyOnReturn: false });
  return body;
};

/**
 * Reads body to its end, SHA-256 and byte count on the way, handing each piece to sink. Stops pulling
 * as soon as more than `limit` bytes arrived. Errors of the body itself come out as BlobBodyError,
 * so a client that goes away is not mistaken for a failing store.
 */
export const drainHashed = async (
  body: BlobBody,
  limit: number,
  sink: (piece: Uint8Array) => Promise<void> | void,
): Promise<Drained> => {
  const hasher = crypto.createHash('sha256');
  const pieces = piecesOf(body)[Symbol.asyncIterator]();
  let size = 0;
  let finished = false;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await pieces.next();
      } catch (error) {
        finished = true;
        throw new BlobBodyError(error);
      }
      if (step.done) {
        finished = true;
        break;
      }
      if (!(step.value instanceof Uint8Array)) throw new TypeError('a chunk body must yield bytes, not strings');
      size += step.value.byteLength;
      if (size > limit) return { tooLarge: true };
      hasher.update(step.value);
      await sink(step.value);
    }
  } finally {
    if (!finished) await pieces.return?.().catch(() => undefined);
  }
  const digest = hasher.digest('hex');
  if (!ChunkHash.is(digest)) throw new Error('unreachable: a SHA-256 hex digest is always a ChunkHash');
  return { tooLarge: false, digest, size };
};

export type Verdict = PutRejection | { readonly ok: true; readonly size: number };

/** Whether a drained body is the chunk it claimed to be. */
export const judge = (drained: Drained, expected: ChunkHash, limit: number): Verdict => {
  if (drained.tooLarge) return { ok: false, code: 'payload_too_large', limit };
  if (drained.digest !== expected) return { ok: false, code: 'hash_mismatch', actual: drained.digest };
  return { ok: true, size: drained.size };
};

/** Stores build keys and paths from hashes: a value that slipped past the brand must not become `../`. */
export const assertChunkHash = (hash: string): void => {
  if (!ChunkHash.is(hash)) throw new TypeError(`not a chunk hash: ${JSON.stringify(hash)}`);
};

export const assertByteRange = (range: ByteRange): void => {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
    throw new RangeError(`invalid byte range ${start}-${end}`);
};
