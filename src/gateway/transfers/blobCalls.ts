import { Readable } from 'node:stream';
import { BlobBodyError, BlobStoreUnavailableError } from '../../storage/blobs/errors.js';
import type { BlobStore } from '../../storage/blobs/port.js';
import { ApiError } from '../http/errors.js';
import type { Segment } from './ranges.js';

/**
 * Runs a blob store call. Any failure of the store becomes BlobStoreUnavailableError (503 with
 * Retry-After, mapped once in the server's error handler): before its circuit opens, the breaker
 * passes the store's own errors (a refused connection, EIO) through as they are.
 */
export const storeCall = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (error instanceof BlobStoreUnavailableError) throw error;
    if (error instanceof BlobBodyError) throw new ApiError('invalid_request', 'The request body ended before it was complete.', { reason: 'body_interrupted' });
    throw new BlobStoreUnavailableError(`blob store call failed: ${error instanceof Error ? error.message : String(error)}`, 1, { cause: error });
  }
};

/** The bytes of a referenced chunk are gone from the store: data loss, not a client mistake. */
export class ChunkLostError extends Error {
  override readonly name = 'ChunkLostError';
}

const open = async (blobs: BlobStore, segment: Segment): Promise<Readable> => {
  const stream = await storeCall(() => blobs.get(segment.hash, segment.range));
  if (stream === null) throw new ChunkLostError(`chunk ${segment.hash} is referenced but not in the blob store`);
  return stream;
};

/**
 * The bytes of segments, one chunk after another, never more than one chunk open at a time. The
 * first is opened before answering, so a store that is down is a 503 rather than a cut-off body;
 * a later failure can only end the body early (the client sees fewer bytes than Content-Length).
 */
export const streamSegments = async (blobs: BlobStore, segments: readonly Segment[]): Promise<Readable> => {
  const [firstSegment, ...rest] = segments;
  if (firstSegment === undefined) return Readable.from([]);
  const head: Segment = firstSegment;
  const first = await open(blobs, head);
  // Each segment ends once its length is through, without waiting for the store's stream to see
  // its end (a file read past EOF, a close): the last byte and the end of the response go out
  // together, so the connection is idle (and reusable, or closable at shutdown) as the client has it all.
  async function* bytesOf(stream: Readable, segment: Segment): AsyncGenerator<Buffer> {
    let left = segment.length;
    for await (const piece of stream as AsyncIterable<Buffer>) {
      const take = piece.length <= left ? piece : piece.subarray(0, left);
      left -= take.length;
      yield take;
      if (left === 0) return;
    }
    if (left > 0) throw new ChunkLostError(`chunk ${segment.hash} ended ${left} bytes short`);
  }
  async function* pieces(): AsyncGenerator<Buffer> {
    yield* bytesOf(first, head);
    for (const segment of rest) yield* bytesOf(await open(blobs, segment), segment);
  }
  const body = Readable.from(pieces(), { objectMode: false });
  // A body destroyed before it was ever read never iterates the first chunk's stream, which would close it.
  body.once('close', () => first.destroy());
  return body;
};
