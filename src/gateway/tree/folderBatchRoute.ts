import type { FastifyInstance } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { NodeId, NonNegativeInt } from '../../domain/ids.js';
import type { CommandOf } from '../../domain/workspace/commands.js';
import type { GatewayDeps } from '../deps.js';
import { refusedResult, workspaceCursor } from '../http/batchAnswers.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { OpaqueId } from './codecs.js';
import { commandMetadata } from './metadata.js';

export const MAX_BATCH_FOLDERS = 1000;

interface FolderBatchBrand {
  readonly FolderBatch: unique symbol;
}
const FolderItem = t.type({ parentId: OpaqueId, name: t.string }, 'FolderItem');
export const CreateFolderBatchBody = t.type(
  {
    workspaceId: OpaqueId,
    folders: t.brand(t.array(FolderItem), (a): a is t.Branded<t.TypeOf<typeof FolderItem>[], FolderBatchBrand> => a.length >= 1 && a.length <= MAX_BATCH_FOLDERS, 'FolderBatch'),
  },
  'CreateFolderBatchBody',
);
const ErrorEnvelope = t.type({ code: t.string, message: t.string, details: t.UnknownRecord });
const CreateFolderBatchAnswer = t.type({
  results: t.array(t.union([t.type({ status: t.literal(201), nodeId: NodeId, cursor: NonNegativeInt }), t.type({ status: t.number, error: ErrorEnvelope })])),
  cursor: NonNegativeInt,
});

/**
 * POST /v1/folders/create_batch (docs/api-extensions.md): each folder means what POST /v1/folders
 * means, decided in order against the state the earlier ones left, the accepted ones appended in
 * one transaction (createEachHandler). A device's first sync makes its folders a wave at a time:
 * one request and one durable write for a wave, where a request each queued on the workspace's
 * writer one after the other.
 */
export const folderBatchRoute = (app: FastifyInstance, deps: GatewayDeps): void => {
  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/folders/create_batch',
      summary: 'Create up to 1,000 folders in one request and one durable write; one answer per folder (extension)',
      tags: ['tree'],
      auth: true,
      body: CreateFolderBatchBody,
      responses: { 200: CreateFolderBatchAnswer },
    },
    async ({ body, auth, request }) => {
      sameWorkspace(auth, body.workspaceId);
      const metadata = commandMetadata(deps, auth, request.id);
      const items = body.folders.map((folder): { command: CommandOf<'CreateFolder'> } | { refused: ApiError } => {
        try {
          const parentId = knownId(NodeId, folder.parentId);
          return { command: { type: 'CreateFolder', workspaceId: auth.workspaceId, data: { nodeId: deps.newId() as NodeId, parentId, name: folder.name }, metadata } };
        } catch (e) {
          if (e instanceof ApiError) return { refused: e };
          throw e;
        }
      });
      const commands = items.flatMap((item) => ('command' in item ? [item.command] : []));
      const ran = commands.length === 0 ? E.right([]) : await deps.handleEach(auth.workspaceId, commands);
      if (E.isLeft(ran)) throw fromCommandError(ran.left);
      const outcomes = ran.right;
      let next = 0;
      let cursor = -1;
      const results = items.map((item) => {
        if ('refused' in item) return refusedResult(item.refused);
        const outcome = outcomes[next++];
        if (outcome === undefined) throw new Error('unreachable: every folder of the batch has an outcome');
        deps.metrics.commands.inc({ type: 'CreateFolder', outcome: E.isLeft(outcome) ? outcome.left.code : 'ok' });
        if (E.isLeft(outcome)) return refusedResult(fromCommandError(outcome.left));
        cursor = Math.max(cursor, outcome.right.cursor);
        return { status: 201 as const, nodeId: item.command.data.nodeId, cursor: outcome.right.cursor };
      });
      if (cursor < 0) cursor = await workspaceCursor(deps.pool, auth.workspaceId);
      return { results, cursor };
    },
  );
};
