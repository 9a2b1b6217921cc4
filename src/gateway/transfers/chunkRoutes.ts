import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import * as t from 'io-ts';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash, NonNegativeInt } from '../../domain/ids.js';
import { ApiError } from '../http/errors.js';
import { defineRoute } from '../http/route.js';
import { storeCall } from './blobCalls.js';
import { ChunkParams, SignedChunkQuery } from './codecs.js';
import type { TransferContext } from './context.js';
import { segmentsOf } from './ranges.js';
import { sendBytes } from './sendBytes.js';

const EMPTY_SHA256 = crypto.createHash('sha256').digest('hex');
const PutAnswer = t.type({ hash: ChunkHash, size: NonNegativeInt });

/** Past this many bytes of a refused body, the connection is cut instead of read to its end. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

/**
 * A refused body that was partly read is read on to its end and dropped, so the client, still
 * sending, gets to read the answer (closing at once could reset the connection under it).
 */
const discardRest = (raw: IncomingMessage): void => {
  if (raw.readableEnded || raw.destroyed) return;
  let seen = 0;
  raw.on('data', (piece: Buffer) => {
    seen += piece.length;
    if (seen > DISCARD_LIMIT) raw.destroy();
  });
  raw.resume();
};

/**
 * PUT and GET of one chunk through a signed URL (signedUrls.ts). The URL is the credential, as a
 * presigned S3 URL is: no bearer token. Bodies are streamed into the blob store, never buffered here.
 */
export const chunkRoutes = async (app: FastifyInstance, ctx: TransferContext): Promise<void> => {
  const { deps, signer, holdings } = ctx;
  // Encapsulated: bodies of any (or no) content type are left unread for the handler to stream
  // from request.raw (no preParsing hook replaces the payload here). request.body stays undefined.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));

    defineRoute<t.TypeOf<typeof ChunkParams>, SignedChunkQuery, undefined, false>(
      scope,
      deps.authenticator,
      {
        method: 'PUT',
        url: '/v1/chunks/:hash',
        summary: "Upload one chunk's bytes to the URL upload_request handed out; the server hashes them",
        tags: ['files'],
        auth: false,
        params: ChunkParams,
        query: SignedChunkQuery,
        responses: { 200: PutAnswer, 201: PutAnswer },
      },
      async ({ params, query, request, reply }) => {
        const now = deps.now();
        const workspaceId = signer.verify('PUT', params.hash, query, now);
        const declared = Number(request.headers['content-length'] ?? Number.NaN);
        if (declared > MAX_CHUNK_BYTES)
          throw new ApiError('payload_too_large', `A chunk is at most ${MAX_CHUNK_BYTES} bytes.`, { limit: MAX_CHUNK_BYTES });
        if (params.hash === EMPTY_SHA256)
          throw new ApiError('invalid_request', 'A chunk holds 1 byte at least.', { field: 'params.hash', reason: 'empty_chunk' });
        const wasHeld = (await holdings.held(workspaceId, [params.hash], now)).has(params.hash);
        // Always hashed, even when already held: the answer speaks for the bytes this request sent.
        const result = await storeCall(() => deps.blobs.put(params.hash, request.raw, { maxBytes: MAX_CHUNK_BYTES }));
        if (!result.ok) {
          if (result.code === 'payload_too_large') {
            discardRest(request.raw);
            throw new ApiError('payload_too_large', `A chunk is at most ${MAX_CHUNK_BYTES} bytes.`, { limit: MAX_CHUNK_BYTES });
          }
          throw new ApiError('hash_mismatch', 'The bytes received do not hash to the chunk hash in the URL; nothing was kept.', {
            expected: params.hash,
            actual: result.actual,
          });
        }
        // A garbage sweep that deleted the blob between the put and this record makes it a retry, never a holding without bytes.
        const stillStored = async () => (await storeCall(() => deps.blobs.stat(params.hash))) !== null;
        if (!(await holdings.recordVerified(workspaceId, params.hash, result.size, now, stillStored)))
          throw new ApiError('unavailable', 'The chunk was garbage-collected while it arrived; send it again.', { reason: 'chunk_collected' }, 1);
        // Verified bytes only: a body cut off or refused never reaches a chunk, so it is not counted.
        deps.metrics.bytesIn.inc(result.size);
        return reply.code(wasHeld ? 200 : 201).send({ hash: params.hash, size: result.size });
      },
    );

    defineRoute<t.TypeOf<typeof ChunkParams>, SignedChunkQuery, undefined, false>(
      scope,
      deps.authenticator,
      {
        method: 'GET',
        url: '/v1/chunks/:hash',
        summary: "Download one chunk's bytes from the URL download_request handed out (supports Range)",
        tags: ['files'],
        auth: false,
        params: ChunkParams,
        query: SignedChunkQuery,
        responses: { 200: null, 206: null },
      },
      async ({ params, query, request, reply }) => {
        const now = deps.now();
        const workspaceId = signer.verify('GET', params.hash, query, now);
        // Checked again here, not only when the URL was made: a purge since then ends access.
        const size = await holdings.referenced(workspaceId, params.hash);
        if (size === null) throw new ApiError('not_found', 'No such chunk.');
        void reply.header('cache-control', 'private, max-age=3600, immutable');
        return sendBytes(request, reply, deps.blobs, {
          size,
          etag: `"${params.hash}"`,
          segments: (start, end) => segmentsOf([{ hash: params.hash, size }], start, end),
        });
      },
    );
  });
};
