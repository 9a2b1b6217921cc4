import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import * as t from 'io-ts';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash, NonNegativeInt } from '../../domain/ids.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { recordVerifiedUploads } from '../../maintenance/gc/fence.js';
import type { BlobStore } from '../../storage/blobs/port.js';
import { CHUNK_RECORDS_TYPE, MAX_RECORDS, MAX_RECORDS_BYTES, RECORD_HEADER_BYTES, decodeRecords, recordHeader, recordsLength, type ChunkRecord } from '../../protocol/chunkRecords.js';
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

/**
 * The records' chunks into the store: in one durable write where the store can (it hashes them and
 * answers the first that lies: lies(index, actual) is thrown), else one put each (hashed before).
 */
const storeAll = async (blobs: BlobStore, records: readonly ChunkRecord[], lies: (index: number, actual: string) => Error): Promise<void> => {
  if (blobs.putMany !== undefined) {
    const putMany = blobs.putMany;
    const result = await storeCall(() => putMany(records.map((r) => ({ hash: r.hash as ChunkHash, bytes: r.bytes }))));
    if (result.ok) return;
    if (result.code === 'hash_mismatch') throw lies(result.index, result.actual);
    throw new Error(`unreachable: record ${result.index} passed the framing's size limit but not the store's`);
  }
  const unique = [...new Map(records.map((r) => [r.hash as ChunkHash, r.bytes])).entries()];
  await forEachLimit(unique, STORE_CONCURRENCY, async ([hash, bytes]) => {
    const result = await storeCall(() => blobs.put(hash, bytes, { maxBytes: MAX_CHUNK_BYTES }));
    if (!result.ok) throw new Error(`unreachable: chunk ${hash} was hashed before it was stored`);
  });
};

/** Of hashes, those the store holds: in one call where the store can, else a stat each. */
const storedAmong = async (blobs: BlobStore, hashes: readonly ChunkHash[]): Promise<Set<ChunkHash>> => {
  if (blobs.storedAmong !== undefined) {
    const among = blobs.storedAmong;
    return storeCall(() => among(hashes));
  }
  const stored = new Set<ChunkHash>();
  await forEachLimit(hashes, STORE_CONCURRENCY, async (hash) => {
    if ((await storeCall(() => blobs.stat(hash))) !== null) stored.add(hash);
  });
  return stored;
};

/** A chunk's bytes, whole (chunks of a fetch are small: the batch is at most 64 MiB). */
const wholeChunk = async (blobs: BlobStore, chunk: { hash: ChunkHash; size: number }): Promise<Buffer> => {
  const pieces: Buffer[] = [];
  for await (const piece of (await streamSegments(blobs, segmentsOf([chunk], 0, chunk.size - 1))) as AsyncIterable<Buffer>) pieces.push(piece);
  const bytes = Buffer.concat(pieces);
  if (bytes.length !== chunk.size) throw new ChunkLostError(`chunk ${chunk.hash} ended ${chunk.size - bytes.length} bytes short`);
  return bytes;
};

/** A run of a fetch's chunks read together; size is theirs in all (for the read-ahead's bound). */
interface Slice {
  readonly chunks: readonly { hash: ChunkHash; size: number }[];
  readonly size: number;
}

/** Chunks of a slice: small enough that a slice is far below the read-ahead's byte bound. */
const SLICE_BYTES = 1024 * 1024;
const SLICE_CHUNKS = 64;

/** A store that reads many at once gets slices of many chunks; any other, a chunk a slice. */
const slicesOf = (chunks: readonly { hash: ChunkHash; size: number }[], readsMany: boolean): Slice[] => {
  if (!readsMany) return chunks.map((c) => ({ chunks: [c], size: c.size }));
  const slices: Slice[] = [];
  let current: { hash: ChunkHash; size: number }[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    if (current.length > 0 && (current.length >= SLICE_CHUNKS || bytes + chunk.size > SLICE_BYTES)) {
      slices.push({ chunks: current, size: bytes });
      current = [];
      bytes = 0;
    }
    current.push(chunk);
    bytes += chunk.size;
  }
  if (current.length > 0) slices.push({ chunks: current, size: bytes });
  return slices;
};

/** The whole bytes of a slice's chunks, in its order. */
const sliceBytes = async (blobs: BlobStore, slice: Slice): Promise<Uint8Array[]> => {
  if (blobs.getMany === undefined) return Promise.all(slice.chunks.map((c) => wholeChunk(blobs, c)));
  const getMany = blobs.getMany;
  const found = await storeCall(() => getMany(slice.chunks.map((c) => c.hash)));
  return slice.chunks.map((c) => {
    const bytes = found.get(c.hash);
    if (bytes === undefined) throw new ChunkLostError(`chunk ${c.hash} is referenced but not in the blob store`);
    if (bytes.length !== c.size) throw new ChunkLostError(`chunk ${c.hash} holds ${bytes.length} bytes, ${c.size} expected`);
    return bytes;
  });
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
const readAhead = <A extends { size: number }, R>(items: readonly A[], read: (item: A) => Promise<R>) => {
  const started: Promise<R>[] = [];
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
    next: async (): Promise<R> => {
      fill();
      const bytes = await (started[due] as Promise<R>);
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
      // Read in slices, several chunks a store call where the store can (a pack gives many small
      // chunks in a read or two), one slice ahead of the one being sent.
      const slices = slicesOf(chunks, deps.blobs.getMany !== undefined);
      const ahead = readAhead(slices, (slice) => sliceBytes(deps.blobs, slice));
      // The first slice is read before answering, so a store that is down is a 503, not a cut-off body.
      await ahead.start();
      async function* records(): AsyncGenerator<Uint8Array> {
        for (const slice of slices) {
          const bytes = await ahead.next();
          for (const [i, chunk] of slice.chunks.entries()) {
            yield recordHeader(chunk.hash, chunk.size);
            yield bytes[i] as Uint8Array;
          }
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
        const lies = (index: number, actual: string) =>
          new ApiError('hash_mismatch', `Record ${index}'s bytes do not hash to the hash it announces; nothing was kept.`, { index, expected: records[index]?.hash, actual });
        // Every record hashed before any is kept: one that lies refuses the whole request. A store
        // that takes the batch in one call hashes every record itself first and keeps none when one
        // lies: hashed here only for the others, which are given the chunks one by one.
        if (deps.blobs.putMany === undefined)
          for (const [index, record] of records.entries()) {
            const actual = crypto.createHash('sha256').update(record.bytes).digest('hex');
            if (actual !== record.hash) throw lies(index, actual);
          }
        const chunks = records.map((r) => ({ hash: r.hash as ChunkHash, size: r.bytes.length }));
        const now = deps.now();
        const wasHeld = await holdings.held(auth.workspaceId, distinct(chunks.map((c) => c.hash)), now);
        await storeAll(deps.blobs, records, lies);
        const collected = await recordVerifiedUploads(deps.pool, { workspaceId: auth.workspaceId, chunks, now }, (hashes) => storedAmong(deps.blobs, hashes));
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
