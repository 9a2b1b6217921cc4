import crypto from 'node:crypto';
import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import { ChunkHash, IsoTimestamp, NodeId, VersionId, type WorkspaceId } from '../../domain/ids.js';
import type { CommandOf } from '../../domain/workspace/commands.js';
import type { CommandResult } from '../../commands/handle.js';
import { workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import type { AuthContext } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import type { CommitItem } from './codecs.js';
import { checkFileShape } from './uploadRoutes.js';

/** The server's content hash: SHA-256 over the chunks' raw 32-byte digests, in order (of nothing for an empty file). */
export const contentHashOf = (chunks: readonly ChunkRef[]): ChunkHash => {
  const hash = crypto.createHash('sha256');
  for (const chunk of chunks) hash.update(Buffer.from(chunk.hash, 'hex'));
  const digest = hash.digest('hex');
  if (!ChunkHash.is(digest)) throw new Error('unreachable: a SHA-256 hex digest is a ChunkHash');
  return digest;
};

// Keys live in the workspace stream's key space, shared with other commands: a prefix keeps a
// client's commit key from ever replaying some other request's events. commit and commit_batch
// share it: a key is one commit whichever way it came.
export const idempotencyKeyOf = (clientKey: string): string => `files.commit:${clientKey}`;

/** Of these stream keys, those a command already ran with (their answers are replayed whatever the chunks are now). */
export const keysAlreadyUsed = async (pool: pg.Pool, workspaceId: WorkspaceId, keys: readonly string[]): Promise<Set<string>> => {
  if (keys.length === 0) return new Set();
  const { rows } = await pool.query<{ key: string }>({
    name: 'transfers_idempotency_seen_many',
    text: 'SELECT key FROM es_idempotency WHERE stream_id = $1 AND key = ANY($2::text[])',
    values: [workspaceStreamId(workspaceId), [...new Set(keys)]],
  });
  return new Set(rows.map((r) => r.key));
};

/** commit's answer from the command's result; a key first used for something else is refused. */
export const commitAnswerOf = (result: CommandResult) => {
  const committed = result.events.find((e) => e.event.type === 'FileVersionCommitted')?.event;
  if (committed?.type !== 'FileVersionCommitted')
    throw new ApiError('invalid_request', 'This idempotency key was already used for another request.', { field: 'body.idempotencyKey' });
  return { fileId: committed.data.nodeId, versionId: committed.data.versionId, cursor: result.cursor };
};

const newId = <A>(codec: { is(u: unknown): u is A }, id: string): A => {
  if (!codec.is(id)) throw new Error(`generated id ${id} is not a valid id`);
  return id;
};

export interface CommitCommandIds {
  readonly newId: () => string;
  readonly now: Date;
  readonly correlationId: string;
}

/**
 * Checks what a commit body says of itself, before anything is looked up (fields named under
 * `field`: "body" for commit, "body.commits[3]" for one of a batch). Throws ApiError.
 */
export const checkCommitShape = (item: CommitItem, field: string): void => {
  checkFileShape(item.chunks, item.size, `${field}.size`, item.name, `${field}.name`);
  if (item.fileId === undefined && item.baseVersionId !== undefined && item.baseVersionId !== null)
    throw new ApiError('invalid_request', 'baseVersionId names the version a new version of fileId was edited from; fileId is missing.', {
      field: `${field}.fileId`,
    });
};

/** The CommitFileVersion a (shape-checked) commit body asks for. An id of a foreign format is not_found (ApiError). */
export const commitCommandOf = (auth: AuthContext, item: CommitItem, ids: CommitCommandIds): CommandOf<'CommitFileVersion'> => {
  return {
    type: 'CommitFileVersion',
    workspaceId: auth.workspaceId,
    data: {
      fileId: item.fileId === undefined ? newId(NodeId, ids.newId()) : knownId(NodeId, item.fileId, 'No such file.'),
      newFile: item.fileId === undefined,
      parentId: knownId(NodeId, item.parentId, 'No such folder.'),
      name: item.name,
      versionId: newId(VersionId, ids.newId()),
      baseVersionId: item.baseVersionId == null ? null : knownId(VersionId, item.baseVersionId, 'No such version of this file.'),
      chunks: item.chunks,
      size: item.size,
      contentHash: contentHashOf(item.chunks),
      modifiedAt: item.modifiedAt ?? null,
    },
    metadata: {
      now: newId(IsoTimestamp, ids.now.toISOString()),
      userId: auth.userId,
      deviceId: auth.deviceId,
      idempotencyKey: idempotencyKeyOf(item.idempotencyKey),
      correlationId: ids.correlationId,
    },
  };
};
