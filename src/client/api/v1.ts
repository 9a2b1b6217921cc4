import {
  ChangesAnswer,
  CommitAnswer,
  CommitBatchAnswer,
  FolderBatchAnswer,
  CursorAnswer,
  DownloadAnswer,
  LongPollAnswer,
  MissingChunksAnswer,
  NodeAnswer,
  StoredChunksAnswer,
  UploadAnswer,
  WorkspaceAnswer,
} from './codecs.js';
import type { Http } from './http.js';
import { CHUNK_RECORDS_TYPE, readRecords, type ChunkRecord } from '../transfer/records.js';

export interface ChunkRefBody {
  readonly hash: string;
  readonly size: number;
}

export interface CommitBody {
  readonly parentId: string;
  readonly name: string;
  readonly fileId: string | null;
  readonly baseVersionId: string | null;
  readonly chunks: readonly ChunkRefBody[];
  readonly size: number;
  readonly modifiedAt: string | null;
  readonly idempotencyKey: string;
}

const CHUNK_TIMEOUT_MS = 120_000;
const refs = (chunks: readonly ChunkRefBody[]) => chunks.map(({ hash, size }) => ({ hash, size }));
const enc = encodeURIComponent;

/** A commit's fields as commit and commit_batch take them (a new file has no fileId). */
const commitFields = (body: CommitBody) => ({
  parentId: body.parentId,
  name: body.name,
  ...(body.fileId === null ? {} : { fileId: body.fileId, baseVersionId: body.baseVersionId }),
  chunks: refs(body.chunks),
  size: body.size,
  ...(body.modifiedAt === null ? {} : { modifiedAt: body.modifiedAt }),
  idempotencyKey: body.idempotencyKey,
});

export type Api = ReturnType<typeof createApi>;

/** The calls of api-v1.md a device makes, for one workspace. */
export const createApi = (http: Http, workspaceId: string) => ({
  workspace: () => http.json('GET', `/v1/workspaces/${enc(workspaceId)}`, WorkspaceAnswer),
  changes: (cursor: number, limit = 5000) => http.json('GET', `/v1/workspaces/${enc(workspaceId)}/changes`, ChangesAnswer, { query: { cursor, limit } }),
  longPoll: (cursor: number, timeoutSeconds: number) =>
    http.json('GET', `/v1/workspaces/${enc(workspaceId)}/changes/longpoll`, LongPollAnswer, {
      query: { cursor, timeout: timeoutSeconds },
      timeoutMs: (timeoutSeconds + 15) * 1000,
    }),
  lookup: (path: string) => http.json('GET', `/v1/workspaces/${enc(workspaceId)}/lookup`, NodeAnswer, { query: { path } }),
  createFolder: (parentId: string, name: string) => http.json('POST', '/v1/folders', NodeAnswer, { body: { workspaceId, parentId, name } }),
  /** Up to 1,000 folders in one request (docs/api-extensions.md); one result per folder, in order. */
  createFolders: (folders: readonly { parentId: string; name: string }[]) => http.json('POST', '/v1/folders/create_batch', FolderBatchAnswer, { body: { workspaceId, folders } }),
  move: (nodeId: string, parentId: string, name: string) => http.json('POST', `/v1/nodes/${enc(nodeId)}/move`, NodeAnswer, { body: { parentId, name } }),
  deleteNode: (nodeId: string) => http.json('DELETE', `/v1/nodes/${enc(nodeId)}`, CursorAnswer),
  uploadRequest: (parentId: string, fileName: string, fileSize: number, chunks: readonly ChunkRefBody[]) =>
    http.json('POST', '/v1/files/upload_request', UploadAnswer, { body: { workspaceId, parentId, fileName, fileSize, chunks: refs(chunks) } }),
  putChunk: async (url: string, bytes: Uint8Array): Promise<void> => {
    const res = await http.send('PUT', url, { rawBody: bytes, timeoutMs: CHUNK_TIMEOUT_MS });
    await res.body?.cancel();
  },
  commit: (body: CommitBody) => http.json('POST', '/v1/files/commit', CommitAnswer, { body: { workspaceId, ...commitFields(body) } }),
  /** Up to 1,000 commits in one request and one transaction on the server; one result each, in order. */
  commitBatch: (commits: readonly CommitBody[]) =>
    http.json('POST', '/v1/files/commit_batch', CommitBatchAnswer, { body: { workspaceId, commits: commits.map(commitFields) }, timeoutMs: CHUNK_TIMEOUT_MS }),
  /** Of these chunks (1 to 10,000), those the workspace does not hold. */
  missingChunks: async (hashes: readonly string[]): Promise<string[]> =>
    (await http.json('POST', `/v1/workspaces/${enc(workspaceId)}/chunks/missing`, MissingChunksAnswer, { body: { hashes } })).missing,
  /** Stores a body of chunk records (transfer/records.ts); the server checks every hash. */
  putChunks: (records: Uint8Array) =>
    http.json('POST', `/v1/workspaces/${enc(workspaceId)}/chunks`, StoredChunksAnswer, {
      rawBody: records,
      headers: { 'content-type': CHUNK_RECORDS_TYPE },
      timeoutMs: CHUNK_TIMEOUT_MS,
    }),
  /** The records of these chunks (1 to 1,024), as they stream in; the caller checks every hash. */
  fetchChunks: async function* (hashes: readonly string[]): AsyncGenerator<ChunkRecord> {
    const res = await http.send('POST', `/v1/workspaces/${enc(workspaceId)}/chunks/fetch`, { body: { hashes }, timeoutMs: CHUNK_TIMEOUT_MS });
    if (res.body === null) return;
    yield* readRecords(res.body as AsyncIterable<Uint8Array>);
  },
  downloadRequest: (fileId: string, versionId: string) =>
    http.json('GET', `/v1/files/${enc(fileId)}/download_request`, DownloadAnswer, { query: { versionId } }),
  /** The whole version's bytes as a stream (the caller verifies them chunk by chunk). */
  content: (fileId: string, versionId: string) => http.send('GET', `/v1/files/${enc(fileId)}/content`, { query: { versionId }, timeoutMs: 30 * 60_000 }),
  getChunk: async (url: string): Promise<Buffer> => {
    const res = await http.send('GET', url, { timeoutMs: CHUNK_TIMEOUT_MS });
    return Buffer.from(await res.arrayBuffer());
  },
});
