import * as t from 'io-ts';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash, IsoTimestamp, NodeId, NonNegativeInt, VersionId } from '../../domain/ids.js';

/**
 * Ids are opaque strings to callers: one that is not of our format names nothing, so it is turned
 * into a not_found by knownId (src/gateway/http/ids.ts) rather than refused as malformed.
 */
export const OpaqueId = t.refinement(t.string, (s) => s.length >= 1 && s.length <= 512, 'Id');

interface ChunkSizeBrand {
  readonly ChunkSize: unique symbol;
}
/** A chunk is 1 byte to MAX_CHUNK_BYTES (16 MiB). */
export const ChunkSize = t.brand(
  NonNegativeInt,
  (n): n is t.Branded<NonNegativeInt, ChunkSizeBrand> => n >= 1 && n <= MAX_CHUNK_BYTES,
  'ChunkSize',
);

export const ChunkDescriptor = t.type({ hash: ChunkHash, size: ChunkSize }, 'ChunkDescriptor');
export type ChunkDescriptor = t.TypeOf<typeof ChunkDescriptor>;

interface IdempotencyKeyBrand {
  readonly IdempotencyKey: unique symbol;
}
export const IdempotencyKey = t.brand(
  t.string,
  (s): s is t.Branded<string, IdempotencyKeyBrand> => s.length >= 1 && s.length <= 200,
  'IdempotencyKey',
);

export const UploadRequestBody = t.type(
  {
    workspaceId: OpaqueId,
    parentId: OpaqueId,
    fileName: t.string,
    fileSize: NonNegativeInt,
    chunks: t.array(ChunkDescriptor),
  },
  'UploadRequestBody',
);
export type UploadRequestBody = t.TypeOf<typeof UploadRequestBody>;

export const UploadRequestAnswer = t.type({
  uploadId: t.string,
  missing: t.array(ChunkHash),
  uploadUrls: t.record(t.string, t.string),
  expiresAt: IsoTimestamp,
});

/** One commit: the body of POST /v1/files/commit without its workspaceId (an item of commit_batch). */
export const CommitItem = t.intersection(
  [
    t.type({
      parentId: OpaqueId,
      name: t.string,
      chunks: t.array(ChunkDescriptor),
      size: NonNegativeInt,
      idempotencyKey: IdempotencyKey,
    }),
    t.partial({
      fileId: OpaqueId,
      baseVersionId: t.union([OpaqueId, t.null]),
      modifiedAt: t.union([IsoTimestamp, t.null]),
    }),
  ],
  'CommitItem',
);
export type CommitItem = t.TypeOf<typeof CommitItem>;

export const CommitBody = t.intersection([t.type({ workspaceId: OpaqueId }), CommitItem], 'CommitBody');
export type CommitBody = t.TypeOf<typeof CommitBody>;

export const CommitAnswer = t.type({ fileId: NodeId, versionId: VersionId, cursor: NonNegativeInt });

export const FileParams = t.type({ fileId: OpaqueId });
export const VersionQuery = t.partial({ versionId: OpaqueId });

export const DownloadAnswer = t.type({
  versionId: VersionId,
  size: NonNegativeInt,
  chunks: t.array(t.type({ hash: ChunkHash, size: NonNegativeInt, url: t.string })),
});

export const ChunkParams = t.type({ hash: ChunkHash });

/** The query string of a signed chunk URL: the URL itself is the credential. */
export const SignedChunkQuery = t.type({ w: t.string, e: t.string, s: t.string }, 'SignedChunkQuery');
export type SignedChunkQuery = t.TypeOf<typeof SignedChunkQuery>;

/** Extension (docs/api-extensions.md): many commits in one request and one durable write. */
export const MAX_BATCH_COMMITS = 1000;

interface BatchSizeBrand {
  readonly CommitBatch: unique symbol;
}
export const CommitBatchBody = t.type(
  {
    workspaceId: OpaqueId,
    commits: t.brand(
      t.array(CommitItem),
      (a): a is t.Branded<CommitItem[], BatchSizeBrand> => a.length >= 1 && a.length <= MAX_BATCH_COMMITS,
      'CommitBatch',
    ),
  },
  'CommitBatchBody',
);

const ErrorEnvelope = t.type({ code: t.string, message: t.string, details: t.UnknownRecord });
export const CommitBatchResult = t.union([
  t.type({ status: t.literal(201), fileId: NodeId, versionId: VersionId, cursor: NonNegativeInt }),
  t.type({ status: t.number, error: ErrorEnvelope }),
]);
export const CommitBatchAnswer = t.type({ results: t.array(CommitBatchResult), cursor: NonNegativeInt });
