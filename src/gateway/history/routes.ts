import { NodeId, VersionId } from '../../domain/ids.js';
import { DEFAULT_RETENTION_DAYS, purgeAt } from '../../maintenance/purge.js';
import { fileVersions, trashItems, type VersionRecord } from '../../projections/history/queries.js';
import { liveNode } from '../../projections/tree/queries.js';
import type { RouteModule } from '../deps.js';
import { ApiError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { commandMetadata } from '../tree/metadata.js';
import { run } from '../tree/routes.js';
import { nodeJson } from '../tree/nodeView.js';
import { FileParams, NodeBody, NodeParams, RestoreAnswer, RestoreBody, TrashBody, UndeleteBody, VersionsBody, WorkspaceParams } from './codecs.js';

const versionJson = (v: VersionRecord) => ({
  versionId: v.versionId,
  size: v.size,
  contentHash: v.contentHash,
  createdAt: v.createdAt,
  deviceId: v.deviceId,
  modifiedAt: v.modifiedAt,
  userId: v.userId,
  ...(v.restoredFrom === null ? {} : { restoredFrom: v.restoredFrom }),
  ...(v.purged ? { purged: true as const } : {}),
});

/** A file's versions and restoring one; the trash and undeleting from it. */
export const fileHistoryRoutes: RouteModule = (app, deps) => {
  const { pool, authenticator } = deps;
  const tags = ['history'];
  const retentionDays = deps.settings.retentionDays ?? DEFAULT_RETENTION_DAYS;

  defineRoute(app, authenticator, { method: 'GET', url: '/v1/files/:fileId/versions', summary: "A file's versions, newest first", tags, auth: true, params: FileParams, responses: { 200: VersionsBody } }, async ({ params, auth }) => {
    const versions = await fileVersions(pool, auth.workspaceId, params.fileId);
    if (versions === null) throw new ApiError('not_found', 'No such file.');
    return { versions: versions.map(versionJson) };
  });

  defineRoute(
    app,
    authenticator,
    { method: 'POST', url: '/v1/files/:fileId/restore', summary: 'A new version with the content of an old one (history is kept); 410 when its bytes were purged', tags, auth: true, params: FileParams, body: RestoreBody, responses: { 201: RestoreAnswer } },
    async ({ params, body, auth, request, reply }) => {
      const versionId = deps.newId();
      if (!VersionId.is(versionId)) throw new Error(`generated id ${versionId} is not a version id`);
      const data = { fileId: knownId(NodeId, params.fileId, 'No such file.'), fromVersionId: knownId(VersionId, body.versionId, 'No such version of this file.'), versionId };
      const cursor = await run(deps, { type: 'RestoreVersion', workspaceId: auth.workspaceId, data, metadata: commandMetadata(deps, auth, request.id) });
      return reply.code(201).send({ versionId, cursor });
    },
  );

  defineRoute(
    app,
    authenticator,
    { method: 'GET', url: '/v1/workspaces/:workspaceId/trash', summary: `What was deleted, most recent first; purged ${retentionDays} days after deletion (purgeAt)`, tags, auth: true, params: WorkspaceParams, responses: { 200: TrashBody } },
    async ({ params, auth }) => {
      sameWorkspace(auth, params.workspaceId);
      const items = await trashItems(pool, auth.workspaceId);
      return {
        items: items.map((i) => ({
          nodeId: i.nodeId, kind: i.kind, path: i.path, deletedAt: i.deletedAt.toISOString(), purgeAt: purgeAt(i.deletedAt, retentionDays).toISOString(),
          name: i.name, parentId: i.parentId, deviceId: i.deviceId,
        })),
      };
    },
  );

  defineRoute(
    app,
    authenticator,
    { method: 'POST', url: '/v1/nodes/:nodeId/undelete', summary: 'Bring a node (and what went to the trash with it) back: at its old place when free, else under a free name', tags, auth: true, params: NodeParams, body: UndeleteBody, responses: { 200: NodeBody } },
    async ({ params, body, auth, request }) => {
      const nodeId = knownId(NodeId, params.nodeId);
      const parentId = body?.parentId == null ? null : knownId(NodeId, body.parentId, 'No such folder.');
      await run(deps, { type: 'UndeleteNode', workspaceId: auth.workspaceId, data: { nodeId, parentId, name: body?.name ?? null }, metadata: commandMetadata(deps, auth, request.id) });
      const node = await liveNode(pool, auth.workspaceId, nodeId);
      if (node === null) throw new ApiError('not_found', 'No such file or folder.');
      return nodeJson(node);
    },
  );
};
