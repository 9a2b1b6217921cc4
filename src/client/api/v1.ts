import {
  ChangesAnswer,
  CommitAnswer,
  CursorAnswer,
  DownloadAnswer,
  LongPollAnswer,
  NodeAnswer,
  UploadAnswer,
  WorkspaceAnswer,
} from './codecs.js';
import type { Http } from './http.js';

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
  move: (nodeId: string, parentId: string, name: string) => http.json('POST', `/v1/nodes/${enc(nodeId)}/move`, NodeAnswer, { body: { parentId, name } }),
  deleteNode: (nodeId: string) => http.json('DELETE', `/v1/nodes/${enc(nodeId)}`, CursorAnswer),
  uploadRequest: (parentId: string, fileName: string, fileSize: number, chunks: readonly ChunkRefBody[]) =>
    http.json('POST', '/v1/files/upload_request', UploadAnswer, { body: { workspaceId, parentId, fileName, fileSize, chunks: refs(chunks) } }),
  putChunk: async (url: string, bytes: Uint8Array): Promise<void> => {
    const res = await http.send('PUT', url, { rawBody: bytes, timeoutMs: CHUNK_TIMEOUT_MS });
    await res.body?.cancel();
  },
  commit: (body: CommitBody) =>
    http.json('POST', '/v1/files/commit', CommitAnswer, {
      body: {
        workspaceId,
        parentId: body.parentId,
        name: body.name,
        ...(body.fileId === null ? {} : { fileId: body.fileId, baseVersionId: body.baseVersionId }),
        chunks: refs(body.chunks),
        size: body.size,
        ...(body.modifiedAt === null ? {} : { modifiedAt: body.modifiedAt }),
        idempotencyKey: body.idempotencyKey,
      },
    }),
  downloadRequest: (fileId: string, versionId: string) =>
    http.json('GET', `/v1/files/${enc(fileId)}/download_request`, DownloadAnswer, { query: { versionId } }),
  /** The whole version's bytes as a stream (the caller verifies them chunk by chunk). */
  content: (fileId: string, versionId: string) => http.send('GET', `/v1/files/${enc(fileId)}/content`, { query: { versionId }, timeoutMs: 30 * 60_000 }),
  getChunk: async (url: string): Promise<Buffer> => {
    const res = await http.send('GET', url, { timeoutMs: CHUNK_TIMEOUT_MS });
    return Buffer.from(await res.arrayBuffer());
  },
});
