import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import { ChunkHash, IsoTimestamp, NodeId, VersionId, type WorkspaceId } from '../../domain/ids.js';
import type { CommandOf } from '../../domain/workspace/commands.js';
import { collectedChunk } from '../../maintenance/gc/fence.js';
import { workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import type { CommandResult } from '../../commands/handle.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { CommitAnswer, CommitBody } from './codecs.js';
import type { TransferContext } from './context.js';
import { CHUNK_LIST_BODY_LIMIT, checkFileShape, distinctHashes } from './uploadRoutes.js';

/** The server's content hash: SHA-256 over the chunks' raw 32-byte digests, in order (of nothing for an empty file). */
export const contentHashOf = (chunks: readonly ChunkRef[]): ChunkHash => {
  const hash = crypto.createHash('sha256');
  for (const chunk of chunks) hash.update(Buffer.from(chunk.hash, 'hex'));
  const digest = hash.digest('hex');
  if (!ChunkHash.is(digest)) throw new Error('unreachable: a SHA-256 hex digest is a ChunkHash');
  return digest;
};

// Keys live in the workspace stream's key space, shared with other commands: a prefix keeps a
// client's commit key from ever replaying some other request's events.
const idempotencyKeyOf = (clientKey: string): string => `files.commit:${clientKey}`;

/** True when a command with this key already ran on the workspace (its answer is replayed whatever the chunks are now). */
const alreadyRan = async (pool: pg.Pool, workspaceId: WorkspaceId, key: string): Promise<boolean> => {
  const { rowCount } = await pool.query({
    name: 'transfers_idempotency_seen',
    text: 'SELECT 1 FROM es_idempotency WHERE stream_id = $1 AND key = $2',
    values: [workspaceStreamId(workspaceId), key],
  });
  return (rowCount ?? 0) > 0;
};

const answerOf = (result: CommandResult) => {
  const committed = result.events.find((e) => e.event.type === 'FileVersionCommitted')?.event;
  if (committed?.type !== 'FileVersionCommitted')
    throw new ApiError('invalid_request', 'This idempotency key was already used for another request.', { field: 'body.idempotencyKey' });
  return { fileId: committed.data.nodeId, versionId: committed.data.versionId, cursor: result.cursor };
};

const newId = <A>(codec: { is(u: unknown): u is A }, id: string): A => {
  if (!codec.is(id)) throw new Error(`generated id ${id} is not a valid id`);
  return id;
};

export const commitRoute = (app: FastifyInstance, ctx: TransferContext): void => {
  const { deps, holdings } = ctx;
  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/files/commit',
      summary: 'Commit a file version from chunks the workspace holds (a new file without fileId)',
      tags: ['files'],
      auth: true,
      body: CommitBody,
      responses: { 201: CommitAnswer },
      options: { bodyLimit: CHUNK_LIST_BODY_LIMIT },
    },
    async ({ body, auth, request, reply }) => {
      sameWorkspace(auth, body.workspaceId);
      const workspaceId = auth.workspaceId;
      checkFileShape(body.chunks, body.size, 'body.size', body.name, 'body.name');
      if (body.fileId === undefined && body.baseVersionId !== undefined && body.baseVersionId !== null)
        throw new ApiError('invalid_request', 'baseVersionId names the version a new version of fileId was edited from; fileId is missing.', {
          field: 'body.fileId',
        });
      const key = idempotencyKeyOf(body.idempotencyKey);
      const now = deps.now();
      const hashes = distinctHashes(body.chunks);
      const held = await holdings.held(workspaceId, hashes, now);
      const missing = hashes.filter((h) => !held.has(h));
      if (missing.length > 0 && !(await alreadyRan(deps.pool, workspaceId, key)))
        throw new ApiError('missing_chunks', `${missing.length} chunk(s) of this file are not held by the workspace; upload them first.`, { missing });
      const command: CommandOf<'CommitFileVersion'> = {
        type: 'CommitFileVersion',
        workspaceId,
        data: {
          fileId: body.fileId === undefined ? newId(NodeId, deps.newId()) : knownId(NodeId, body.fileId, 'No such file.'),
          newFile: body.fileId === undefined,
          parentId: knownId(NodeId, body.parentId, 'No such folder.'),
          name: body.name,
          versionId: newId(VersionId, deps.newId()),
          baseVersionId: body.baseVersionId == null ? null : knownId(VersionId, body.baseVersionId, 'No such version of this file.'),
          chunks: body.chunks,
          size: body.size,
          contentHash: contentHashOf(body.chunks),
          modifiedAt: body.modifiedAt ?? null,
        },
        metadata: {
          now: newId(IsoTimestamp, now.toISOString()),
          userId: auth.userId,
          deviceId: auth.deviceId,
          idempotencyKey: key,
          correlationId: request.id,
        },
      };
      const result = await deps.handle(command).catch(async (error: unknown) => {
        // The blob garbage sweep deleted a chunk after the holdings check passed: upload it again.
        const collected = collectedChunk(error);
        if (collected === null) throw error;
        throw new ApiError('missing_chunks', 'A chunk of this file was garbage-collected meanwhile; upload it again.', { missing: [collected] });
      });
      deps.metrics.commands.inc({ type: command.type, outcome: E.isLeft(result) ? result.left.code : result.right.replayed ? 'replayed' : 'ok' });
      if (E.isLeft(result)) throw fromCommandError(result.left);
      return reply.code(201).send(answerOf(result.right));
    },
  );
};
