import type { FastifyInstance } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import type { EachOutcome } from '../../commands/each.js';
import type { CommandError } from '../../commands/errors.js';
import type { ChunkHash } from '../../domain/ids.js';
import type { CommandOf } from '../../domain/workspace/commands.js';
import { collectedChunk } from '../../maintenance/gc/fence.js';
import { refusedResult, workspaceCursor } from '../http/batchAnswers.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { CommitBatchAnswer, CommitBatchBody } from './codecs.js';
import { checkCommitShape, commitAnswerOf, commitCommandOf, idempotencyKeyOf, keysAlreadyUsed } from './commitCommand.js';
import type { TransferContext } from './context.js';
import { distinctHashes } from './uploadRoutes.js';

/** A batch of 1,000 commits of large files: their chunk lists together. */
const BATCH_BODY_LIMIT = 64 * 1024 * 1024;

type Item = { readonly command: CommandOf<'CommitFileVersion'> } | { readonly refused: ApiError };

/** f's value, or the ApiError it threw: one commit's own refusal, which does not refuse the batch. */
const orRefusal = <A>(f: () => A): A | ApiError => {
  try {
    return f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
};

/**
 * POST /v1/files/commit_batch (docs/api-extensions.md): each commit means what POST /v1/files/commit
 * means, checked the same way and in the same order; the accepted ones are appended in one
 * transaction (createEachHandler), and each gets the answer commit would have given it.
 */
export const commitBatchRoute = (app: FastifyInstance, ctx: TransferContext): void => {
  const { deps, holdings } = ctx;
  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/files/commit_batch',
      summary: 'Commit up to 1,000 file versions in one request and one durable write; one answer per commit (extension)',
      tags: ['files'],
      auth: true,
      body: CommitBatchBody,
      responses: { 200: CommitBatchAnswer },
      options: { bodyLimit: BATCH_BODY_LIMIT },
    },
    async ({ body, auth, request }) => {
      sameWorkspace(auth, body.workspaceId);
      const workspaceId = auth.workspaceId;
      const now = deps.now();
      const ids = { newId: deps.newId, now, correlationId: request.id };
      const shaped = body.commits.map((item, i) => orRefusal(() => checkCommitShape(item, `body.commits[${i}]`)));
      const hashes = distinctHashes(body.commits.flatMap((item, i) => (shaped[i] instanceof ApiError ? [] : item.chunks)));
      const held = await holdings.held(workspaceId, hashes, now);
      const used = await keysAlreadyUsed(deps.pool, workspaceId, body.commits.map((c) => idempotencyKeyOf(c.idempotencyKey)));
      const items: Item[] = body.commits.map((item, i) => {
        const refused = shaped[i];
        if (refused instanceof ApiError) return { refused };
        const missing = distinctHashes(item.chunks).filter((h) => !held.has(h));
        if (missing.length > 0 && !used.has(idempotencyKeyOf(item.idempotencyKey)))
          return { refused: new ApiError('missing_chunks', `${missing.length} chunk(s) of this file are not held by the workspace; upload them first.`, { missing }) };
        const command = orRefusal(() => commitCommandOf(auth, item, ids));
        return command instanceof ApiError ? { refused: command } : { command };
      });

      const outcomes = await runCollectingRetries(items, (commands) => deps.handleEach(workspaceId, commands));
      let cursor = -1;
      const results = items.map((item, i) => {
        if ('refused' in item) return refusedResult(item.refused);
        const outcome = outcomes.get(i);
        if (outcome === undefined) throw new Error('unreachable: every command of the batch has an outcome');
        deps.metrics.commands.inc({ type: 'CommitFileVersion', outcome: E.isLeft(outcome) ? outcome.left.code : outcome.right.replayed ? 'replayed' : 'ok' });
        if (E.isLeft(outcome)) return refusedResult(fromCommandError(outcome.left));
        if (!outcome.right.replayed) cursor = Math.max(cursor, outcome.right.cursor);
        const answer = orRefusal(() => commitAnswerOf(outcome.right));
        return answer instanceof ApiError ? refusedResult(answer) : { status: 201 as const, ...answer };
      });
      if (cursor < 0) cursor = await workspaceCursor(deps.pool, workspaceId);
      return { results, cursor };
    },
  );
};

/**
 * Runs the batch's commands. A garbage sweep that deleted a chunk after the holdings check fails the
 * whole transaction (the chunk reference's fence): the commits that reference that chunk are
 * answered missing_chunks, as commit would, and the others are run again. Each round refuses at
 * least one commit, so this ends.
 */
const runCollectingRetries = async (
  items: Item[],
  run: (commands: CommandOf<'CommitFileVersion'>[]) => Promise<E.Either<CommandError, EachOutcome[]>>,
): Promise<Map<number, EachOutcome>> => {
  for (;;) {
    const indexed = items.flatMap((item, i) => ('command' in item ? [{ i, command: item.command }] : []));
    const outcomes = new Map<number, EachOutcome>();
    if (indexed.length === 0) return outcomes;
    let gone: ChunkHash | null = null;
    const result = await run(indexed.map((x) => x.command)).catch((error: unknown) => {
      gone = collectedChunk(error);
      if (gone === null) throw error;
      return null;
    });
    if (result === null) {
      const hash = gone as ChunkHash | null;
      const hit = indexed.filter((x) => x.command.data.chunks.some((c) => c.hash === hash));
      if (hit.length === 0) throw new Error(`unreachable: the sweep collected ${String(hash)}, which no commit of the batch references`);
      for (const { i } of hit)
        items[i] = { refused: new ApiError('missing_chunks', 'A chunk of this file was garbage-collected meanwhile; upload it again.', { missing: [hash] }) };
      continue;
    }
    if (E.isLeft(result)) throw fromCommandError(result.left);
    indexed.forEach((x, k) => outcomes.set(x.i, result.right[k] as EachOutcome));
    return outcomes;
  }
};
