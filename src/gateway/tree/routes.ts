import * as E from 'fp-ts/lib/Either.js';
import { NodeId } from '../../domain/ids.js';
import type { WorkspaceCommand } from '../../domain/workspace/commands.js';
import { childrenPage, liveNode, nodeAtPath, pathSegments, workspaceRow } from '../../projections/tree/queries.js';
import type { GatewayDeps, RouteModule } from '../deps.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { ChildrenBody, ChildrenQuery, CreateFolderBody, CursorBody, LookupQuery, MoveBody, NodeBody, NodeParams, WorkspaceBody, WorkspaceParams } from './codecs.js';
import { folderBatchRoute } from './folderBatchRoute.js';
import { commandMetadata } from './metadata.js';
import { nodeJson } from './nodeView.js';


/** Runs a command; a refusal becomes its API error, success answers the cursor reached. */
export const run = async (deps: GatewayDeps, command: WorkspaceCommand): Promise<number> => {
  const result = await deps.handle(command);
  if (E.isLeft(result)) throw fromCommandError(result.left);
  return result.right.cursor;
};

const notFound = () => new ApiError('not_found', 'No such file or folder.');

const after = {
  encode: (key: string) => Buffer.from(key, 'utf8').toString('base64url'),
  decode: (token: string) => {
    const key = Buffer.from(token, 'base64url').toString('utf8');
    if (Buffer.from(key, 'utf8').toString('base64url') !== token) throw new ApiError('invalid_request', 'query.after is not a page token from this API.', { field: 'query.after' });
    return key;
  },
};

export const treeRoutes: RouteModule = (app, deps) => {
  const { pool, authenticator } = deps;
  const tags = ['tree'];

  defineRoute(app, authenticator, { method: 'GET', url: '/v1/workspaces/:workspaceId', summary: 'A workspace: root, cursor, usage', tags, auth: true, params: WorkspaceParams, responses: { 200: WorkspaceBody } }, async ({ params, auth }) => {
    sameWorkspace(auth, params.workspaceId);
    const ws = await workspaceRow(pool, params.workspaceId);
    if (ws === null) throw new ApiError('not_found', 'No such workspace.');
    return { workspaceId: ws.workspaceId, rootId: ws.rootId, cursor: ws.cursor, usedBytes: ws.usedBytes, quotaBytes: ws.quotaBytes };
  });

  defineRoute(app, authenticator, { method: 'GET', url: '/v1/workspaces/:workspaceId/lookup', summary: 'The node at a path', tags, auth: true, params: WorkspaceParams, query: LookupQuery, responses: { 200: NodeBody } }, async ({ params, query, auth }) => {
    sameWorkspace(auth, params.workspaceId);
    const segments = pathSegments(query.path);
    if (segments === null) throw new ApiError('invalid_request', 'query.path must be an absolute path like /a/b.txt.', { field: 'query.path' });
    const ws = await workspaceRow(pool, params.workspaceId);
    const node = ws === null ? null : await nodeAtPath(pool, params.workspaceId, ws.rootId, segments);
    if (node === null) throw notFound();
    return nodeJson(node);
  });

  defineRoute(app, authenticator, { method: 'GET', url: '/v1/nodes/:nodeId', summary: 'A node', tags, auth: true, params: NodeParams, responses: { 200: NodeBody } }, async ({ params, auth }) => {
    const node = await liveNode(pool, auth.workspaceId, params.nodeId);
    if (node === null) throw notFound();
    return nodeJson(node);
  });

  defineRoute(app, authenticator, { method: 'GET', url: '/v1/nodes/:nodeId/children', summary: "A folder's children, paged by name", tags, auth: true, params: NodeParams, query: ChildrenQuery, responses: { 200: ChildrenBody } }, async ({ params, query, auth }) => {
    const folder = await liveNode(pool, auth.workspaceId, params.nodeId);
    if (folder === null) throw notFound();
    if (folder.kind !== 'folder') throw new ApiError('invalid_request', 'That node is a file, not a folder.', { reason: 'not_a_folder' });
    const page = await childrenPage(pool, auth.workspaceId, folder, query.limit ?? 100, query.after === undefined ? null : after.decode(query.after));
    return { items: page.items.map(nodeJson), ...(page.nextAfter === null ? {} : { next: after.encode(page.nextAfter) }) };
  });

  defineRoute(app, authenticator, { method: 'POST', url: '/v1/folders', summary: 'Create a folder', tags, auth: true, body: CreateFolderBody, responses: { 201: NodeBody } }, async ({ body, auth, request, reply }) => {
    sameWorkspace(auth, body.workspaceId);
    const nodeId = deps.newId() as NodeId;
    const parentId = knownId(NodeId, body.parentId);
    await run(deps, { type: 'CreateFolder', workspaceId: auth.workspaceId, data: { nodeId, parentId, name: body.name }, metadata: commandMetadata(deps, auth, request.id) });
    const node = await liveNode(pool, auth.workspaceId, nodeId);
    if (node === null) throw notFound();
    return reply.code(201).send(nodeJson(node));
  });

  folderBatchRoute(app, deps);

  defineRoute(app, authenticator, { method: 'POST', url: '/v1/nodes/:nodeId/move', summary: 'Move or rename a node (one event, whatever the subtree)', tags, auth: true, params: NodeParams, body: MoveBody, responses: { 200: NodeBody } }, async ({ params, body, auth, request }) => {
    const data = { nodeId: knownId(NodeId, params.nodeId), parentId: knownId(NodeId, body.parentId), name: body.name };
    await run(deps, { type: 'MoveNode', workspaceId: auth.workspaceId, data, metadata: commandMetadata(deps, auth, request.id) });
    const node = await liveNode(pool, auth.workspaceId, params.nodeId);
    if (node === null) throw notFound();
    return nodeJson(node);
  });

  defineRoute(app, authenticator, { method: 'DELETE', url: '/v1/nodes/:nodeId', summary: 'Move a node and its subtree to the trash', tags, auth: true, params: NodeParams, responses: { 200: CursorBody } }, async ({ params, auth, request }) => ({
    cursor: await run(deps, { type: 'DeleteNode', workspaceId: auth.workspaceId, data: { nodeId: knownId(NodeId, params.nodeId) }, metadata: commandMetadata(deps, auth, request.id) }),
  }));
};
