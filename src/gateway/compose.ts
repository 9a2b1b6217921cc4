import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createEachHandler } from '../commands/each.js';
import { createBatchHandler, type CommandHandlerDeps } from '../commands/handle.js';
import { createPostgresWorkspaceStore } from '../commands/postgres/workspaceStore.js';
import type { BlobStore } from '../storage/blobs/port.js';
import { readStream } from '../storage/eventlog/postgres/read.js';
import { workspaceEventSchema, workspaceStreamId } from '../storage/eventlog/workspaceSchema.js';
import { accessTokenKey, verifyAccessToken } from './accounts/tokens.js';
import { createAccounts, createRedisDeviceLiveness } from './accounts/index.js';
import type { GatewayDeps, GatewaySettings, RouteModule } from './deps.js';
import type { Authenticator } from './http/auth.js';
import { DEFAULT_RATE_LIMITS, registerRateLimits } from './http/rateLimits.js';
import { createMetrics } from './metrics.js';
import type { ReadinessCheck } from './routes/health.js';
import { buildServer } from './server.js';
import { createChangesCache } from './sync/cache/index.js';
import { createChangeNotifier } from './sync/notifier.js';
import { syncRoutes } from './sync/routes.js';
import { attachSyncSockets, type SyncSockets } from './sync/sockets.js';
import { transferRoutes } from './transfers/index.js';
import { treeRoutes } from './tree/routes.js';
// gateway modules: imports (one line each, keep sorted)
import { DEFAULT_RETENTION_DAYS } from '../maintenance/purge.js';
import { startMaintenance } from '../maintenance/scheduler.js';
import { auditRoutes } from './audit/routes.js';
import { historyRoutes } from './history/index.js';

export interface GatewayOptions {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly settings: GatewaySettings;
  readonly redisUrl: string | null;
  readonly readiness?: readonly ReadinessCheck[];
  readonly now?: () => Date;
  /** Replaces the accounts' authenticator (tests inject a fixed-token one). */
  readonly authenticator?: Authenticator;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly deps: GatewayDeps;
  close(): Promise<void>;
}

/** Redis connections of one node: commands and publishes, the socket adapter's subscriptions, the notifier's, the revocations'. */
const connectRedis = (url: string, logger: Logger) => {
  const connect = (name: string) => {
    const client = new Redis(url, { connectionName: `strata-${name}`, maxRetriesPerRequest: 2 });
    client.on('error', (err) => logger.warn({ err: err.message, connection: name }, 'redis connection error'));
    return client;
  };
  const clients = { pub: connect('pub'), adapterSub: connect('adapter'), notifierSub: connect('notifier'), livenessSub: connect('liveness') };
  return { ...clients, close: async () => void (await Promise.all(Object.values(clients).map((c) => c.quit().catch(() => c.disconnect())))) };
};

/** Wires the gateway from its adapters, listens, and returns how to stop it (in reverse order). */
export const startGateway = async (options: GatewayOptions, listen: { port: number; host: string }): Promise<RunningGateway> => {
  const now = options.now ?? (() => new Date());
  const closers: Array<() => Promise<void>> = [];
  const metrics = createMetrics();
  const redis = options.redisUrl === null ? null : connectRedis(options.redisUrl, options.logger);
  if (redis !== null) closers.push(redis.close);
  const notifier = await createChangeNotifier(redis === null ? null : { pub: redis.pub, sub: redis.notifierSub }, options.logger);
  closers.push(() => notifier.close());

  // The morning burst (issue #6): what lets thousands of devices pull the same events without a
  // database read per request. Pages of the changes feed come from memory (filled from the log,
  // extended by this node's commits, prefetched on other nodes' notifications); live devices are
  // remembered for a few seconds, kept honest by revocations acknowledged by every node over Redis
  // (without Redis, authentication reads Postgres as before); pulled cursors are written in batches.
  const cacheSettings = options.settings.changesCache ?? { enabled: true, maxBytes: 256 * 1024 ** 2 };
  const changesCache = !cacheSettings.enabled
    ? undefined
    : createChangesCache({
        maxBytes: cacheSettings.maxBytes,
        logger: options.logger,
        log: { read: (workspaceId, after, limit) => readStream(options.pool, workspaceEventSchema, workspaceStreamId(workspaceId), after, limit) },
        watch: (workspaceId, listener) => notifier.subscribe(workspaceId, listener),
        observer: {
          hit: () => metrics.changesCacheHits.inc(),
          miss: () => metrics.changesCacheMisses.inc(),
          logRead: () => metrics.changesLogReads.inc(),
          size: (bytes, evictions) => {
            metrics.changesCacheBytes.set(bytes);
            if (evictions > 0) metrics.changesCacheEvictions.inc(evictions);
          },
        },
      });
  if (changesCache !== undefined) closers.push(async () => changesCache.close());
  const liveness = redis === null ? undefined : await createRedisDeviceLiveness({ pub: redis.pub, sub: redis.livenessSub }, options.logger);
  if (liveness !== undefined) closers.push(() => liveness.close());
  // End of the morning-burst block; the lines that use it say "issue #6".

  // After a commit is durable, never before: sockets on every node, then long-poll waiters.
  let sockets: SyncSockets | null = null;
  const committed: Array<(workspaceId: string, cursor: number) => void> = [
    (workspaceId, cursor) => sockets?.changed(workspaceId, cursor),
    (workspaceId, cursor) => notifier.publish(workspaceId, cursor),
  ];
  const commandDeps: CommandHandlerDeps = {
    store: createPostgresWorkspaceStore(options.pool),
    newEventId: () => crypto.randomUUID(),
    onCommitted: (workspaceId, result) => {
      // issue #6: the cache first, so a device told of the commit finds its events here.
      changesCache?.committed(workspaceId, result.events);
      for (const listener of committed) listener(workspaceId, result.cursor);
    },
  };
  const handleBatch = createBatchHandler(commandDeps);
  const handleEach = createEachHandler(commandDeps);
  const handle: GatewayDeps['handle'] = (command) => handleBatch(command.workspaceId, [command]);

  // Accounts: who is calling; a revoked device's sockets are cut on every node.
  const accounts = createAccounts({ pool: options.pool, settings: options.settings, now, logger: options.logger, liveness }); // issue #6: liveness
  closers.push(() => accounts.close()); // issue #6: writes the pulls still in memory
  accounts.onDeviceRevoked((deviceId) => sockets?.disconnectDevice(deviceId));
  const authenticator = options.authenticator ?? accounts.authenticator;
  const tokenKey = accessTokenKey(options.settings.secret);

  const modules: RouteModule[] = [
    // First, so its hook sees every route registered after it.
    (app) => registerRateLimits(app, { settings: options.settings.rateLimits ?? DEFAULT_RATE_LIMITS, identify: (t) => verifyAccessToken(tokenKey, t, now()), redis: redis?.pub ?? null }),
    accounts.routes,
    treeRoutes,
    transferRoutes(),
    syncRoutes({ notifier, changesCache, recordPull: async (deviceId, cursor, at) => accounts.recordPull(deviceId, cursor, at) }), // issue #6
  ];
  // gateway modules: wiring (each module adds its own block here)
  // History: versions, restore, trash, undelete, the tree at a moment, rewind; retention purge and blob GC on a timer.
  modules.push(historyRoutes);
  if (options.settings.maintenance !== undefined) {
    const maintenance = startMaintenance(
      { pool: options.pool, handle, blobs: options.blobs, now, logger: options.logger, retentionDays: options.settings.retentionDays ?? DEFAULT_RETENTION_DAYS },
      options.settings.maintenance,
    );
    closers.push(() => maintenance.stop());
  }
  // Audit: the workspace's hash-chain head and its stored events with their hashes.
  modules.push(auditRoutes);

  const deps: GatewayDeps = {
    logger: options.logger,
    metrics,
    readiness: [
      { name: 'database', check: async () => void (await options.pool.query('SELECT 1')) },
      { name: 'blobs', check: () => options.blobs.ping() },
      ...(redis === null ? [] : [{ name: 'redis', check: async () => void (await redis.pub.ping()) }]),
      ...(options.readiness ?? []),
    ],
    pool: options.pool,
    handle,
    handleBatch,
    handleEach,
    authenticator,
    blobs: options.blobs,
    now,
    newId: () => crypto.randomUUID(),
    settings: options.settings,
  };
  const app = await buildServer(deps, modules);
  const syncSockets = attachSyncSockets(app.server, {
    authenticator,
    logger: options.logger,
    metrics,
    redis: redis === null ? null : { pub: redis.pub, sub: redis.adapterSub },
  });
  sockets = syncSockets;
  const url = await app.listen({ port: listen.port, host: listen.host });
  return {
    app,
    url,
    deps,
    close: async () => {
      await syncSockets.close();
      await app.close();
      for (const close of closers.reverse()) await close();
    },
  };
};
