import { ApiError, sendApiError } from '../http/errors.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore } from '../../storage/blobs/port.js';
import { streamSegments } from './blobCalls.js';
import { rangeOf, type Segment } from './ranges.js';

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export interface Representation {
  readonly size: number;
  readonly etag: string;
  /** The chunk pieces holding bytes start..end (inclusive). */
  segments(start: number, end: number): Segment[];
}

/**
 * Answers with the representation's bytes, or the single range the request asks for (206 with
 * Content-Range; 416 when it lies past the end), streamed from the blob store chunk by chunk.
 */
export const sendBytes = async (request: FastifyRequest, reply: FastifyReply, blobs: BlobStore, what: Representation): Promise<FastifyReply> => {
  const range = rangeOf(header(request, 'range'), what.size, header(request, 'if-range'), what.etag);
  void reply.header('accept-ranges', 'bytes').header('etag', what.etag);
  if (range.kind === 'unsatisfiable')
    return sendApiError(
      reply.header('content-range', `bytes */${what.size}`),
      new ApiError('range_not_satisfiable', `The range lies outside the ${what.size} bytes of the content.`, { size: what.size }),
    );
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, what.size - 1];
  const length = end - start + 1;
  void reply.type('application/octet-stream').header('content-length', String(length));
  if (range.kind === 'partial') void reply.code(206).header('content-range', `bytes ${start}-${end}/${what.size}`);
  if (request.method === 'HEAD' || length === 0) return reply.send();
  return reply.send(await streamSegments(blobs, what.segments(start, end)));
};
