import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createCommandHandler } from '../commands/handle.js';
import { createPostgresWorkspaceStore } from '../commands/postgres/workspaceStore.js';
import type { BlobStore } from '../storage/blobs/port.js';
import type { GatewayDeps, GatewaySettings, RouteModule } from './deps.js';
import type { Authenticator } from './http/auth.js';
import { createMetrics } from './metrics.js';
import type { ReadinessCheck } from './routes/health.js';
import { buildServer } from './server.js';
// gateway modules: imports (one line each, keep sorted)

export interface GatewayOptions {
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly settings: GatewaySettings;
  readonly redisUrl: string | null;
  readonly readiness?: readonly ReadinessCheck[];
  readonly now?: () => Date;
}

export interface RunningGateway {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly deps: GatewayDeps;
  close(): Promise<void>;
}

/** Wires the gateway from its adapters, listens, and returns how to stop it (in reverse order). */
export const startGateway = async (options: GatewayOptions, listen: { port: number; host: string }): Promise<RunningGateway> => {
  const closers: Array<() => Promise<void>> = [];
  const metrics = createMetrics();
  const committed: Array<(workspaceId: string, cursor: number) => void> = [];
  const handle = createCommandHandler({
    store: createPostgresWorkspaceStore(options.pool),
    newEventId: () => crypto.randomUUID(),
    onCommitted: (workspaceId, result) => {
      for (const listener of committed) listener(workspaceId, result.cursor);
    },
  });
  let authenticator: Authenticator = { authenticate: async () => null };
  const modules: RouteModule[] = [];
  // gateway modules: wiring (each module adds its own block here)

  const deps: GatewayDeps = {
    logger: options.logger,
    metrics,
    readiness: [
      { name: 'database', check: async () => void (await options.pool.query('SELECT 1')) },
      { name: 'blobs', check: () => options.blobs.ping() },
      ...(options.readiness ?? []),
    ],
    pool: options.pool,
    handle,
    authenticator: { authenticate: (token) => authenticator.authenticate(token) },
    blobs: options.blobs,
    now: options.now ?? (() => new Date()),
    newId: () => crypto.randomUUID(),
    settings: options.settings,
  };
  const app = await buildServer(deps, modules);
  const url = await app.listen({ port: listen.port, host: listen.host });
  return {
    app,
    url,
    deps,
    close: async () => {
      await app.close();
      for (const close of closers.reverse()) await close();
    },
  };
};
