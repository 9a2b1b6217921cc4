import type { Logger } from 'pino';
import type pg from 'pg';
import type { HandleEach } from '../commands/each.js';
import type { HandleBatch, HandleCommand } from '../commands/handle.js';
import type { BlobStore } from '../storage/blobs/port.js';
import type { Authenticator } from './http/auth.js';
import type { RateLimitSettings } from './http/rateLimits.js';
import type { Metrics } from './metrics.js';
import type { ReadinessCheck } from './routes/health.js';

export interface GatewaySettings {
  /** Base URL devices reach this service at (for upload and download URLs); null: from each request's Host. */
  readonly publicUrl: string | null;
  readonly defaultQuotaBytes: number;
  /** Signs access tokens and transfer URLs; the same on every node of one service. */
  readonly secret: Buffer;
  readonly accessTokenTtlSeconds: number;
  readonly transferUrlTtlSeconds: number;
  /** Per-device, per-workspace and per-address budgets; DEFAULT_RATE_LIMITS when absent. */
  readonly rateLimits?: RateLimitSettings;
  /** Days deleted nodes and superseded versions are kept before the retention purge; 30 when absent. */
  readonly retentionDays?: number;
  /** Retention purge and blob GC on a timer, one node at a time (ms between runs, null: never); absent: not scheduled (tests). */
  readonly maintenance?: { readonly purgeIntervalMs: number | null; readonly gcIntervalMs: number | null };
  /** The in-memory cache behind the changes feed (issue #6). Default: on, 256 MiB. */
  readonly changesCache?: { readonly enabled: boolean; readonly maxBytes: number };
}

/** Everything the HTTP and socket layers use; each is handed in, none is reached for. */
export interface GatewayDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: readonly ReadinessCheck[];
  readonly pool: pg.Pool;
  readonly handle: HandleCommand;
  /** Several commands of one workspace, all or nothing (rewind). */
  readonly handleBatch: HandleBatch;
  /** Several independent commands of one workspace in one durable write, each answered on its own. */
  readonly handleEach: HandleEach;
  readonly authenticator: Authenticator;
  readonly blobs: BlobStore;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly settings: GatewaySettings;
}

/** A group of routes. */
export type RouteModule = (app: import('fastify').FastifyInstance, deps: GatewayDeps) => void | Promise<void>;
