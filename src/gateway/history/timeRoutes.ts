import * as E from 'fp-ts/lib/Either.js';
import { VersionId, type IsoTimestamp } from '../../domain/ids.js';
import type { WorkspaceCommand } from '../../domain/workspace/commands.js';
import { planRewind, RewindError, type RewindPlan } from '../../projections/history/rewind.js';
import { treeAt, treeThenAndNow, workspaceEvents } from '../../projections/history/treeAt.js';
import { pathSegments, workspaceRow } from '../../projections/tree/queries.js';
import type { GatewayDeps, RouteModule } from '../deps.js';
import type { AuthContext } from '../http/auth.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { commandMetadata } from '../tree/metadata.js';
import { momentOf, RewindAnswer, RewindBody, TreeAtBody, TreeAtQuery, WorkspaceParams } from './codecs.js';
import { treeNodeJson } from './treeJson.js';

/** A plan decided against a state that moved before it ran is planned again, this many times at most. */
const REWIND_ATTEMPTS = 3;

const segmentsOf = (path: string, field: string): string[] => {
  const segments = pathSegments(path);
  if (segments === null) throw new ApiError('invalid_request', `${field} must be an absolute path like /a/b.`, { field });
  return segments;
};

const nothingThere = () => new ApiError('not_found', 'Nothing was at that path at that time.');

/** Plans a rewind against the log as it is now: the plan and the cursor it was decided at. */
const plan = async (deps: GatewayDeps, auth: AuthContext, segments: readonly string[], at: Date): Promise<{ plan: RewindPlan; cursor: number }> => {
  const { then, now } = await treeThenAndNow(workspaceEvents(deps.pool, auth.workspaceId), at);
  const folder = then.lookup(segments);
  if (folder === null) throw nothingThere();
  const cursor = now.cursor;
  try {
    const newVersionId = () => {
      const id = deps.newId();
      if (!VersionId.is(id)) throw new Error(`generated id ${id} is not a version id`);
      return id;
    };
    return { plan: planRewind(then, now, folder.nodeId, { newVersionId, now: deps.now().toISOString() as IsoTimestamp }), cursor };
  } catch (e) {
    if (e instanceof RewindError && e.reason !== 'stuck') throw new ApiError('invalid_request', e.message, { reason: e.reason, field: 'body.path' });
    throw e;
  }
};

/** The tree at a moment, and putting a folder back as it was then. */
export const timeRoutes: RouteModule = (app, deps) => {
  const tags = ['history'];

  defineRoute(
    app,
    deps.authenticator,
    { method: 'GET', url: '/v1/workspaces/:workspaceId/tree', summary: 'The folder tree at path as it was at a moment, rebuilt from the log', tags, auth: true, params: WorkspaceParams, query: TreeAtQuery, responses: { 200: TreeAtBody } },
    async ({ params, query, auth }) => {
      sameWorkspace(auth, params.workspaceId);
      const segments = segmentsOf(query.path ?? '/', 'query.path');
      const at = momentOf(query.at);
      const tree = await treeAt(workspaceEvents(deps.pool, auth.workspaceId), at);
      const node = tree.lookup(segments);
      if (node === null) throw nothingThere();
      return { at: at.toISOString(), cursor: tree.cursor, root: treeNodeJson(tree, node, tree.pathOf(node.nodeId), query.depth) };
    },
  );

  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST', url: '/v1/workspaces/:workspaceId/rewind', tags, auth: true, params: WorkspaceParams, body: RewindBody, responses: { 200: RewindAnswer },
      summary: 'Put a folder back as it was at a moment by appending new events, all or nothing (dryRun: only the plan)',
    },
    async ({ params, body, auth, request }) => {
      sameWorkspace(auth, params.workspaceId);
      const segments = segmentsOf(body.path, 'body.path');
      const dryRun = body.dryRun ?? false;
      for (let attempt = 1; ; attempt++) {
        const planned = await plan(deps, auth, segments, momentOf(body.at));
        const changes = planned.plan.changes;
        if (dryRun || planned.plan.commands.length === 0) return { changes, cursor: planned.cursor, dryRun };
        const metadata = commandMetadata(deps, auth, request.id);
        const commands = planned.plan.commands.map((c) => ({ ...c, workspaceId: auth.workspaceId, metadata }) as WorkspaceCommand);
        const result = await deps.handleBatch(auth.workspaceId, commands);
        if (E.isRight(result)) return { changes, cursor: result.right.cursor, dryRun };
        // Refused against a workspace that changed after planning: plan again from what it is now.
        const current = (await workspaceRow(deps.pool, auth.workspaceId))?.cursor;
        if (attempt >= REWIND_ATTEMPTS || current === planned.cursor) throw fromCommandError(result.left);
      }
    },
  );
};
