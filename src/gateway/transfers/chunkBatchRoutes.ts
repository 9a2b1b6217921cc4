import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import * as t from 'io-ts';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash, NonNegativeInt } from '../../domain/ids.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { recordVerifiedUploads } from '../../maintenance/gc/fence.js';
import type { BlobStore } from '../../storage/blobs/port.js';
import { CHUNK_RECORDS_TYPE, MAX_RECORDS, MAX_RECORDS_BYTES, RECORD_HEADER_BYTES, decodeRecords, recordHeader, recordsLength } from '../../protocol/chunkRecords.js';
import { ApiError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { ChunkLostError, storeCall, streamSegments } from './blobCalls.js';
import { OpaqueId } from './codecs.js';
import type { TransferContext } from './context.js';
import { segmentsOf } from './ranges.js';

const WorkspaceParams = t.type({ workspaceId: OpaqueId });

interface HashListBrand {
  readonly HashList: unique symbol;
}
interface FetchListBrand {
  readonly FetchList: unique symbol;
}
const MissingBody = t.type(
  { hashes: t.brand(t.array(ChunkHash), (a): a is t.Branded<ChunkHash[], HashListBrand> => a.length >= 1 && a.length <= 10_000, 'HashList') },
  'ChunksMissingBody',
);
const MissingAnswer = t.type({ missing: t.array(ChunkHash) });
const FetchBody = t.type(
  { hashes: t.brand(t.array(ChunkHash), (a): a is t.Branded<ChunkHash[], FetchListBrand> => a.length >= 1 && a.length <= MAX_RECORDS, 'FetchList') },
  'ChunksFetchBody',
);
const UploadAnswer = t.type({ chunks: t.array(t.type({ hash: ChunkHash, size: NonNegativeInt, created: t.boolean })) });

/** Blob writes of one batch in flight at once: each is a file fsync on the filesystem store, which the disk merges when they overlap. */
const STORE_CONCURRENCY = 16;

const distinct = <A>(items: readonly A[]): A[] => [...new Set(items)];

/** A chunk's bytes, whole (chunks of a fetch are small: the batch is at most 64 MiB). */
const wholeChunk = async (blobs: BlobStore, chunk: { hash: ChunkHash; size: number }): Promise<Buffer> => {
  const pieces: Buffer[] = [];
  for await (const piece of (await streamSegments(blobs, segmentsOf([chunk], 0, chunk.size - 1))) as AsyncIterable<Buffer>) pieces.push(piece);
  const bytes = Buffer.concat(pieces);
  if (bytes.length !== chunk.size) throw new ChunkLostError(`chunk ${chunk.hash} ended ${chunk.size - bytes.length} bytes short`);
  return bytes;
};

/** Bytes read ahead of the one being sent: enough to keep the store busy, bounded for memory. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
const READ_AHEAD_CHUNKS = 32;

/**
 * Reads items in order with several reads in flight (one chunk at a time leaves the store idle
 * between a small chunk's open and the next), within READ_AHEAD_BYTES/CHUNKS of the next one due.
 * start() fills the window and waits for the first item (a store that is down surfaces then);
 * next() answers each item's bytes, in order.
 */
const readAhead = <A extends { size: number }>(items: readonly A[], read: (item: A) => Promise<Buffer>) => {
  const started: Promise<Buffer>[] = [];
  let due = 0;
  const fill = () => {
    let bytes = 0;
    for (let i = due; i < started.length; i++) bytes += (items[i] as A).size;
    while (started.length < items.length && started.length - due < READ_AHEAD_CHUNKS && (started.length === due || bytes < READ_AHEAD_BYTES)) {
      const item = items[started.length] as A;
      const reading = read(item);
      // Read ahead of need: a failure is reported when its turn comes, never as an unhandled rejection.
      reading.catch(() => undefined);
      started.push(reading);
      bytes += item.size;
    }
  };
  return {
    start: async (): Promise<void> => {
      fill();
      await started[0];
    },
    next: async (): Promise<Buffer> => {
      fill();
      const bytes = await (started[due] as Promise<Buffer>);
      due++;
      return bytes;
    },
  };
};

/**
 * The chunk batch calls of docs/api-extensions.md: which chunks a workspace lacks, many chunks sent
 * in one body and one durable record, many fetched in one answer. Same rules as upload_request, PUT
 * and GET of one chunk (per-workspace holdings, every byte hashed, only referenced chunks served).
 */
export const chunkBatchRoutes = async (app: FastifyInstance, ctx: TransferContext): Promise<void> => {
  const { deps, holdings } = ctx;

  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/workspaces/:workspaceId/chunks/missing',
      summary: 'Of these chunks, those the workspace does not hold (extension)',
      tags: ['files'],
      auth: true,
      params: WorkspaceParams,
      body: MissingBody,
      responses: { 200: MissingAnswer },
      options: { bodyLimit: 2 * 1024 * 1024 },
    },
    async ({ params, body, auth }) => {
      sameWorkspace(auth, params.workspaceId);
      const hashes = distinct(body.hashes);
      const held = await holdings.held(auth.workspaceId, hashes, deps.now());
      return { missing: hashes.filter((h) => !held.has(h)) };
    },
  );

  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/workspaces/:workspaceId/chunks/fetch',
      summary: "Many referenced chunks' bytes in one application/vnd.strata.chunks answer (extension)",
      tags: ['files'],
      auth: true,
      params: WorkspaceParams,
      body: FetchBody,
      responses: { 200: null },
    },
    async ({ params, body, auth, reply }) => {
      sameWorkspace(auth, params.workspaceId);
      const hashes = distinct(body.hashes);
      const { rows } = await deps.pool.query<{ hash: ChunkHash; size: string }>({
        name: 'transfers_referenced_many',
        text: 'SELECT hash, size FROM rm.chunk_refs WHERE workspace_id = $1 AND hash = ANY($2::text[]) AND refs > 0',
        values: [auth.workspaceId, hashes],
      });
      const sizes = new Map(rows.map((r) => [r.hash, Number(r.size)]));
      const missing = hashes.filter((h) => !sizes.has(h));
      if (missing.length > 0) throw new ApiError('not_found', `${missing.length} of these chunks are not referenced by this workspace's files.`, { missing });
      const chunks = hashes.map((hash) => ({ hash, size: sizes.get(hash) as number }));
      const total = recordsLength(chunks.map((c) => c.size));
      if (total - chunks.length * RECORD_HEADER_BYTES > MAX_RECORDS_BYTES)
        throw new ApiError('payload_too_large', `At most ${MAX_RECORDS_BYTES} bytes of chunks per request.`, { limit: MAX_RECORDS_BYTES });
      const ahead = readAhead(chunks, (chunk) => wholeChunk(deps.blobs, chunk));
      // The first chunk is read before answering, so a store that is down is a 503, not a cut-off body.
      await ahead.start();
      async function* records(): AsyncGenerator<Uint8Array> {
        for (const chunk of chunks) {
          yield recordHeader(chunk.hash, chunk.size);
          yield await ahead.next();
        }
      }
      deps.metrics.bytesOut.inc(total);
      return reply.type(CHUNK_RECORDS_TYPE).header('content-length', String(total)).send(Readable.from(records(), { objectMode: false }));
    },
  );

  // Encapsulated: the records body is read whole (bounded) as bytes, for this route only.
  await app.register(async (scope) => {
    const bodyLimit = MAX_RECORDS_BYTES + MAX_RECORDS * RECORD_HEADER_BYTES;
    for (const type of [CHUNK_RECORDS_TYPE, 'application/octet-stream'])
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    defineRoute<t.TypeOf<typeof WorkspaceParams>, Record<string, never>, undefined, true>(
      scope,
      deps.authenticator,
      {
        method: 'POST',
        url: '/v1/workspaces/:workspaceId/chunks',
        summary: 'Send many chunks in one application/vnd.strata.chunks body; every record is hashed (extension)',
        tags: ['files'],
        auth: true,
        params: WorkspaceParams,
        responses: { 200: UploadAnswer },
        options: { bodyLimit },
      },
      async ({ params, auth, request }) => {
        sameWorkspace(auth, params.workspaceId);
        const body: unknown = request.body;
        if (!(body instanceof Uint8Array) || body.length === 0)
          throw new ApiError('invalid_request', `Send the chunks as a ${CHUNK_RECORDS_TYPE} body.`, { reason: 'content_type' });
        const decoded = decodeRecords(body, MAX_CHUNK_BYTES);
        if ('problem' in decoded) {
          const { problem } = decoded;
          if (problem.reason === 'chunk_too_large' || problem.reason === 'too_many_records')
            throw new ApiError('payload_too_large', `At most ${MAX_RECORDS} chunks of at most ${MAX_CHUNK_BYTES} bytes each per request.`, { ...problem });
          throw new ApiError('invalid_request', 'The body is not a whole sequence of chunk records.', { ...problem });
        }
        const { records } = decoded;
        const total = records.reduce((sum, r) => sum + r.bytes.length, 0);
        if (total > MAX_RECORDS_BYTES) throw new ApiError('payload_too_large', `At most ${MAX_RECORDS_BYTES} bytes of chunks per request.`, { limit: MAX_RECORDS_BYTES });
        // Every record hashed before any is kept: one that lies refuses the whole request.
        for (const [index, record] of records.entries()) {
          const actual = crypto.createHash('sha256').update(record.bytes).digest('hex');
          if (actual !== record.hash)
            throw new ApiError('hash_mismatch', `Record ${index}'s bytes do not hash to the hash it announces; nothing was kept.`, { index, expected: record.hash, actual });
        }
        const chunks = records.map((r) => ({ hash: r.hash as ChunkHash, size: r.bytes.length }));
        const now = deps.now();
        const wasHeld = await holdings.held(auth.workspaceId, distinct(chunks.map((c) => c.hash)), now);
        const unique = [...new Map(records.map((r) => [r.hash as ChunkHash, r.bytes])).entries()];
        await forEachLimit(unique, STORE_CONCURRENCY, async ([hash, bytes]) => {
          const result = await storeCall(() => deps.blobs.put(hash, bytes, { maxBytes: MAX_CHUNK_BYTES }));
          if (!result.ok) throw new Error(`unreachable: chunk ${hash} was hashed before it was stored`);
        });
        const stillStored = async (hash: ChunkHash) => (await storeCall(() => deps.blobs.stat(hash))) !== null;
        const collected = await recordVerifiedUploads(deps.pool, { workspaceId: auth.workspaceId, chunks, now }, stillStored);
        if (collected.size > 0)
          throw new ApiError('unavailable', 'Chunks were garbage-collected while they arrived; send them again.', { reason: 'chunk_collected', hashes: [...collected] }, 1);
        deps.metrics.bytesIn.inc(total);
        const announced = new Set<ChunkHash>();
        return {
          chunks: chunks.map((c) => {
            const created = !wasHeld.has(c.hash) && !announced.has(c.hash);
            announced.add(c.hash);
            return { ...c, created };
          }),
        };
      },
    );
  });
};
