import type { FastifyInstance } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import { collectedChunk } from '../../maintenance/gc/fence.js';
import { fromCommandError, ApiError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { CommitAnswer, CommitBody } from './codecs.js';
import { checkCommitShape, commitAnswerOf, commitCommandOf, idempotencyKeyOf, keysAlreadyUsed } from './commitCommand.js';
import type { TransferContext } from './context.js';
import { CHUNK_LIST_BODY_LIMIT, distinctHashes } from './uploadRoutes.js';

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
      const now = deps.now();
      checkCommitShape(body, 'body');
      const hashes = distinctHashes(body.chunks);
      const held = await holdings.held(workspaceId, hashes, now);
      const missing = hashes.filter((h) => !held.has(h));
      const key = idempotencyKeyOf(body.idempotencyKey);
      if (missing.length > 0 && !(await keysAlreadyUsed(deps.pool, workspaceId, [key])).has(key))
        throw new ApiError('missing_chunks', `${missing.length} chunk(s) of this file are not held by the workspace; upload them first.`, { missing });
      const command = commitCommandOf(auth, body, { newId: deps.newId, now, correlationId: request.id });
      const result = await deps.handle(command).catch(async (error: unknown) => {
        // The blob garbage sweep deleted a chunk after the holdings check passed: upload it again.
        const collected = collectedChunk(error);
        if (collected === null) throw error;
        throw new ApiError('missing_chunks', 'A chunk of this file was garbage-collected meanwhile; upload it again.', { missing: [collected] });
      });
      deps.metrics.commands.inc({ type: command.type, outcome: E.isLeft(result) ? result.left.code : result.right.replayed ? 'replayed' : 'ok' });
      if (E.isLeft(result)) throw fromCommandError(result.left);
      return reply.code(201).send(commitAnswerOf(result.right));
    },
  );
};
