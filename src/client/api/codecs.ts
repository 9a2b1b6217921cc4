import * as t from 'io-ts';

// The answers of api-v1.md this client reads, decoded at the edge. Extra fields are allowed (the
// API may grow); missing or mistyped ones are a protocol error.

export const ErrorEnvelope = t.type({ error: t.intersection([t.type({ code: t.string, message: t.string }), t.partial({ details: t.UnknownRecord })]) });

export const SignupAnswer = t.type({ userId: t.string, workspaceId: t.string }, 'SignupAnswer');
export const TokenPair = t.type({ accessToken: t.string, refreshToken: t.string, expiresIn: t.number }, 'TokenPair');
export type TokenPair = t.TypeOf<typeof TokenPair>;
export const LoginAnswer = t.intersection([t.type({ userId: t.string, workspaceId: t.string, deviceId: t.string }), TokenPair], 'LoginAnswer');

export const WorkspaceAnswer = t.type({ workspaceId: t.string, rootId: t.string, cursor: t.number }, 'WorkspaceAnswer');

const ChunkRefAnswer = t.type({ hash: t.string, size: t.number });

export const NodeAnswer = t.intersection(
  [
    t.type({ nodeId: t.string, kind: t.union([t.literal('file'), t.literal('folder')]), parentId: t.union([t.string, t.null]), name: t.string }),
    t.partial({ versionId: t.string, contentHash: t.string, size: t.number, chunks: t.array(ChunkRefAnswer) }),
  ],
  'NodeAnswer',
);
export type NodeAnswer = t.TypeOf<typeof NodeAnswer>;

export const CursorAnswer = t.type({ cursor: t.number }, 'CursorAnswer');

export const UploadAnswer = t.type({ missing: t.array(t.string), uploadUrls: t.record(t.string, t.string) }, 'UploadAnswer');
export const CommitAnswer = t.type({ fileId: t.string, versionId: t.string, cursor: t.number }, 'CommitAnswer');
export type CommitAnswer = t.TypeOf<typeof CommitAnswer>;
export const DownloadAnswer = t.type({ versionId: t.string, size: t.number, chunks: t.array(t.type({ hash: t.string, size: t.number, url: t.string })) }, 'DownloadAnswer');
export type DownloadAnswer = t.TypeOf<typeof DownloadAnswer>;

export const ApiEvent = t.type(
  { seq: t.number, type: t.string, at: t.string, deviceId: t.union([t.string, t.null]), nodeId: t.string, data: t.UnknownRecord },
  'ApiEvent',
);
export type ApiEvent = t.TypeOf<typeof ApiEvent>;
export const ChangesAnswer = t.type({ events: t.array(ApiEvent), cursor: t.number, hasMore: t.boolean }, 'ChangesAnswer');
export type ChangesAnswer = t.TypeOf<typeof ChangesAnswer>;
export const LongPollAnswer = t.type({ changes: t.boolean, cursor: t.number }, 'LongPollAnswer');

// docs/api-extensions.md: the calls for many small files at once.
export const MissingChunksAnswer = t.type({ missing: t.array(t.string) }, 'MissingChunksAnswer');
export const StoredChunksAnswer = t.type({ chunks: t.array(t.type({ hash: t.string, size: t.number, created: t.boolean })) }, 'StoredChunksAnswer');
export const BatchCommitResult = t.union(
  [
    t.type({ status: t.literal(201), fileId: t.string, versionId: t.string, cursor: t.number }),
    t.type({ status: t.number, error: t.intersection([t.type({ code: t.string, message: t.string }), t.partial({ details: t.UnknownRecord })]) }),
  ],
  'BatchCommitResult',
);
export type BatchCommitResult = t.TypeOf<typeof BatchCommitResult>;
export const CommitBatchAnswer = t.type({ results: t.array(BatchCommitResult), cursor: t.number }, 'CommitBatchAnswer');
export type CommitBatchAnswer = t.TypeOf<typeof CommitBatchAnswer>;
export const BatchFolderResult = t.union(
  [
    t.type({ status: t.literal(201), nodeId: t.string, cursor: t.number }),
    t.type({ status: t.number, error: t.intersection([t.type({ code: t.string, message: t.string }), t.partial({ details: t.UnknownRecord })]) }),
  ],
  'BatchFolderResult',
);
export type BatchFolderResult = t.TypeOf<typeof BatchFolderResult>;
export const FolderBatchAnswer = t.type({ results: t.array(BatchFolderResult), cursor: t.number }, 'FolderBatchAnswer');
