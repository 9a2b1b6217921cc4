import { auditPeople, chainHead, chainedEvents } from '../../audit/postgres.js';
import type { RouteModule } from '../deps.js';
import { ApiError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { AuditEventsBody, AuditEventsQuery, AuditHeadBody, AuditParams, AuditPeopleBody, MAX_AUDIT_PAGE } from './codecs.js';

/**
 * Tamper evidence for a workspace's own people: the head of its hash chain (record it; a later
 * `strata audit verify` against it shows whether history was rewritten since), and the stored events
 * with their hashes, so the chain can be recomputed outside the server.
 */
export const auditRoutes: RouteModule = (app, deps) => {
  const tags = ['audit'];

  defineRoute(app, deps.authenticator, {
    method: 'GET', url: '/v1/workspaces/:workspaceId/audit/head', summary: "The head of the workspace's event hash chain", tags, auth: true,
    params: AuditParams, responses: { 200: AuditHeadBody },
  }, async ({ params, auth }) => {
    sameWorkspace(auth, params.workspaceId);
    const head = await chainHead(deps.pool, params.workspaceId);
    if (head === null) throw new ApiError('not_found', 'No such workspace.');
    return head;
  });

  defineRoute(app, deps.authenticator, {
    method: 'GET', url: '/v1/workspaces/:workspaceId/audit/events', summary: 'Stored events with their chain hashes, oldest first', tags, auth: true,
    params: AuditParams, query: AuditEventsQuery, responses: { 200: AuditEventsBody },
  }, async ({ params, query, auth }) => {
    sameWorkspace(auth, params.workspaceId);
    const after = query.after ?? 0;
    const limit = query.limit ?? 1000;
    // One more than asked tells whether more remain.
    const events = await chainedEvents(deps.pool, params.workspaceId, after, Math.min(limit, MAX_AUDIT_PAGE) + 1);
    const page = events.slice(0, limit);
    return { events: page, cursor: page[page.length - 1]?.version ?? after, hasMore: events.length > limit };
  });

  defineRoute(app, deps.authenticator, {
    method: 'GET', url: '/v1/workspaces/:workspaceId/audit/people', summary: "The workspace's users and devices, revoked ones too, to name the ids in its events", tags, auth: true,
    params: AuditParams, responses: { 200: AuditPeopleBody },
  }, async ({ params, auth }) => {
    sameWorkspace(auth, params.workspaceId);
    return auditPeople(deps.pool, params.workspaceId);
  });
};
