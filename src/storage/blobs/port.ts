import type { Readable } from 'node:stream';
import type { ChunkHash } from '../../domain/ids.js';

/**
 * The chunk blob store: content-addressed, a chunk is named by the lowercase hex SHA-256 of its
 * bytes. Expected outcomes are values (`ok: false` with a stable code); infrastructure failures
 * throw Error subclasses (see ./errors.ts). Nothing unverified is ever visible under a chunk's hash.
 */
export interface BlobStore {
  /** Streams body in, hashing on the way; keeps it under `hash` only if the digest matches. Idempotent. */
  put(hash: ChunkHash, body: BlobBody, options?: PutOptions): Promise<PutResult>;
  /** The stored chunk's size, or null when the store does not hold it. */
  stat(hash: ChunkHash): Promise<ChunkStat | null>;
  /** The chunk's bytes (a range of them when given), or null when the store does not hold it. */
  get(hash: ChunkHash, range?: ByteRange): Promise<Readable | null>;
  /** Removes the chunk; removing a missing chunk is not an error. */
  delete(hash: ChunkHash): Promise<void>;
  /** Every stored chunk, in no particular order, for garbage collection. */
  list(): AsyncIterable<StoredChunk>;
  /** Resolves when the store is reachable and writable; throws otherwise (readiness). */
  ping(): Promise<void>;
  /** Present when clients can transfer bytes straight to and from the store (S3). */
  readonly presign?: PresignCapability;
  /**
   * Many whole chunks in one durable write (the filesystem store packs the small ones): every
   * record hashed first, and one that does not match keeps none of them. Absent: put each.
   */
  putMany?(chunks: readonly ChunkBytes[]): Promise<PutManyResult>;
  /** Of hashes, those the store holds. Absent: stat each. */
  storedAmong?(hashes: readonly ChunkHash[]): Promise<Set<ChunkHash>>;
  /** The whole bytes of those of hashes the store holds (a hash it lacks is absent). Absent: get each. */
  getMany?(hashes: readonly ChunkHash[]): Promise<Map<ChunkHash, Uint8Array>>;
  /**
   * Gives back the space of deleted chunks that delete() could not free at once (the dead records
   * of packs), for what was written before `before`; a dry run only counts. Absent: delete frees.
   */
  compact?(options: CompactOptions): Promise<CompactReport>;
}

export interface ChunkBytes {
  readonly hash: ChunkHash;
  readonly bytes: Uint8Array;
}

/** results in the order of the chunks given; a hash given twice is created at most once. */
export type PutManyResult =
  | { readonly ok: true; readonly results: readonly { readonly created: boolean; readonly size: number }[] }
  | (PutRejection & { readonly index: number });

export interface CompactOptions {
  readonly before: Date;
  readonly dryRun?: boolean;
}

export interface CompactReport {
  /** Packs written anew with their live chunks, and packs removed with nothing live left. */
  readonly packsRewritten: number;
  readonly packsRemoved: number;
  /** Disk space given back (or that would be, in a dry run). */
  readonly reclaimedBytes: number;
}

/**
 * A stream, an async iterable of byte pieces, or the whole chunk. On payload_too_large the store
 * stops reading and leaves the rest of a stream unread (not destroyed), so the gateway can still
 * answer 413.
 */
export type BlobBody = NodeJS.ReadableStream | AsyncIterable<Uint8Array> | Uint8Array;

export interface PutOptions {
  /** Bytes beyond this abort the put (default MAX_CHUNK_BYTES). */
  readonly maxBytes?: number;
}

/**
 * `created` is false when the chunk was already stored (the new body was still verified). Under
 * concurrent puts of one chunk, S3 may answer `created: true` to more than one of them.
 */
export type PutResult = { readonly ok: true; readonly created: boolean; readonly size: number } | PutRejection;

export type PutRejection =
  | { readonly ok: false; readonly code: 'hash_mismatch'; readonly actual: ChunkHash }
  | { readonly ok: false; readonly code: 'payload_too_large'; readonly limit: number };

/** verifyStaged adds `not_found`: nothing (or nothing any more) under that staging id. */
export type VerifyStagedResult = PutResult | { readonly ok: false; readonly code: 'not_found' };

export type BlobStoreFailureCode = Exclude<VerifyStagedResult, { ok: true }>['code'];

export interface ChunkStat {
  readonly size: number;
}

/** `modifiedAt` is the last time the chunk was put: a re-put refreshes it, so GC grace periods cover re-uploads. */
export interface StoredChunk {
  readonly hash: ChunkHash;
  readonly size: number;
  readonly modifiedAt: Date;
}

/** Inclusive byte offsets, as in HTTP Range. `end` past the chunk is clamped; `start` past it yields no bytes. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** A presigned upload: the client PUTs to `url`; the gateway keeps `stagingId` for verifyStaged. */
export interface StagedUpload {
  readonly url: string;
  readonly stagingId: string;
}

/**
 * Direct-to-store transfers. Uploads land under a staging key private to one upload, never under
 * the chunk's own key: only verifyStaged, after hashing the staged bytes, stores them as the chunk.
 */
export interface PresignCapability {
  /** A URL the client PUTs the chunk's bytes to, valid for expiresSeconds. */
  putUrl(hash: ChunkHash, expiresSeconds: number): Promise<StagedUpload>;
  /** A URL serving the chunk's bytes, valid for expiresSeconds; it does not check that the chunk exists. */
  getUrl(hash: ChunkHash, expiresSeconds: number): Promise<string>;
  /** Hashes what was staged; stores it as the chunk on a match. The staged object is removed unless this throws. */
  verifyStaged(hash: ChunkHash, stagingId: string, options?: PutOptions): Promise<VerifyStagedResult>;
  /** Removes staged uploads last written before `before` (abandoned ones); answers how many. */
  sweepStaged(before: Date): Promise<number>;
}
