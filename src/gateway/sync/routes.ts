import { workspaceRow } from '../../projections/tree/queries.js';
import { readStream } from '../../storage/eventlog/postgres/read.js';
import { workspaceEventSchema, workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import type { RouteModule } from '../deps.js';
import { ApiError } from '../http/errors.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { apiEvent } from './apiEvent.js';
import { negotiateEncoding, type ChangesCache } from './cache/index.js';
import { ChangesBody, ChangesParams, ChangesQuery, LongPollBody, LongPollQuery, MAX_PAGE } from './codecs.js';
import type { ChangeNotifier } from './notifier.js';

export interface SyncRouteOptions {
  readonly notifier: ChangeNotifier;
  /** Remembers the last cursor a device pulled (GET /v1/devices shows it). */
  readonly recordPull?: (deviceId: string, cursor: number, at: Date) => Promise<void>;
  /** Answers the changes feed from memory when it can (absent: every request reads the log). */
  readonly changesCache?: ChangesCache;
}

const DEFAULT_LONGPOLL_SECONDS = 30;

export const syncRoutes =
  (options: SyncRouteOptions): RouteModule =>
  (app, deps) => {
    const tags = ['sync'];

    defineRoute(app, deps.authenticator, {
      method: 'GET', url: '/v1/workspaces/:workspaceId/changes', summary: 'The events after a cursor, oldest first', tags, auth: true,
      params: ChangesParams, query: ChangesQuery, responses: { 200: ChangesBody },
    }, async ({ params, query, auth, request, reply }) => {
      sameWorkspace(auth, params.workspaceId);
      const limit = Math.min(query.limit ?? 1000, MAX_PAGE);
      const cache = options.changesCache;
      if (cache === undefined) {
        // Without the cache (its benchmark's baseline): every request reads the log.
        deps.metrics.changesLogReads.inc();
        // One more than asked tells whether more remain, without another round trip.
        const events = await readStream(deps.pool, workspaceEventSchema, workspaceStreamId(params.workspaceId), query.cursor, limit + 1);
        const page = events.slice(0, limit);
        const cursor = page[page.length - 1]?.version ?? query.cursor;
        if (options.recordPull !== undefined && page.length > 0) await options.recordPull(auth.deviceId, cursor, deps.now());
        return { events: page.map(apiEvent), cursor, hasMore: events.length > limit };
      }
      const page = await cache.changes(params.workspaceId, query.cursor, limit);
      if (options.recordPull !== undefined && page.count > 0) await options.recordPull(auth.deviceId, page.cursor, deps.now());
      // The same bytes for every device asking for this page, compressed at most once per coding.
      const encoding = negotiateEncoding(request.headers['accept-encoding']);
      const body = await page.encoded(encoding);
      void reply.header('content-type', 'application/json; charset=utf-8').header('vary', 'Accept-Encoding');
      if (encoding !== 'identity') void reply.header('content-encoding', encoding);
      return reply.send(body);
    });

    defineRoute(app, deps.authenticator, {
      method: 'GET', url: '/v1/workspaces/:workspaceId/changes/longpoll', summary: 'Wait until the workspace moves past a cursor', tags, auth: true,
      params: ChangesParams, query: LongPollQuery, responses: { 200: LongPollBody },
    }, async ({ params, query, auth, request }) => {
      sameWorkspace(auth, params.workspaceId);
      const current = async () => {
        const ws = await workspaceRow(deps.pool, params.workspaceId);
        if (ws === null) throw new ApiError('not_found', 'No such workspace.');
        return ws.cursor;
      };
      let unsubscribe = () => undefined as void;
      let timer: NodeJS.Timeout | undefined;
      try {
        // Subscribe before reading, so a commit between the two is not missed.
        const woken = new Promise<number | null>((resolve) => {
          unsubscribe = options.notifier.subscribe(params.workspaceId, (cursor) => cursor > query.cursor && resolve(cursor));
          timer = setTimeout(() => resolve(null), (query.timeout ?? DEFAULT_LONGPOLL_SECONDS) * 1000);
          request.raw.once('close', () => resolve(null));
        });
        const now = await current();
        if (now > query.cursor) return { changes: true, cursor: now };
        const cursor = (await woken) ?? (await current());
        return { changes: cursor > query.cursor, cursor };
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
    });
  };
