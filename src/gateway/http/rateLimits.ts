import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { AuthContext } from './auth.js';
import { bearerToken } from './auth.js';
import { ApiError } from './errors.js';

export interface RateLimitSettings {
  /** Requests a minute one device may make, whatever its workspace's other devices do. */
  readonly devicePerMinute: number;
  /** Requests a minute all devices of one workspace may make together. */
  readonly workspacePerMinute: number;
  /** Requests a minute from one address without a token (signup, login, refresh, transfer URLs). */
  readonly addressPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { devicePerMinute: 1200, workspacePerMinute: 6000, addressPerMinute: 1200 };

const KEY = Symbol('strata.rateKey');
type Keyed = FastifyRequest & { [KEY]?: string };

/**
 * Per-device and per-workspace budgets, so one noisy device cannot starve the others, and a budget
 * per address for calls without a token. Counters live in Redis when it is configured, so every
 * node counts against the same budget. The token is only checked for its signature here (cheap);
 * whether its device is revoked is the route's business.
 */
export const registerRateLimits = async (
  app: FastifyInstance,
  options: { settings: RateLimitSettings; identify: (token: string) => AuthContext | null; redis: Redis | null },
): Promise<void> => {
  await app.register(rateLimit, {
    global: false,
    ...(options.redis === null ? {} : { redis: options.redis }),
    nameSpace: 'strata-rl:',
    // A Redis hiccup must not take the API down with it: let the request through.
    skipOnError: true,
  });
  const limiter = (max: number) =>
    app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => (req as Keyed)[KEY] ?? req.ip });
  const device = limiter(options.settings.devicePerMinute);
  const workspace = limiter(options.settings.workspacePerMinute);
  const address = limiter(options.settings.addressPerMinute);

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/')) return;
    const token = bearerToken(req.headers.authorization);
    const who = token === null ? null : options.identify(token);
    const checks =
      who === null
        ? ([['address', address, `a:${req.ip}`]] as const)
        : ([['device', device, `d:${who.deviceId}`], ['workspace', workspace, `w:${who.workspaceId}`]] as const);
    for (const [scope, check, key] of checks) {
      (req as Keyed)[KEY] = key;
      const verdict = await check(req);
      if (!verdict.isAllowed && verdict.isExceeded)
        throw new ApiError('rate_limited', `Too many requests for this ${scope}; retry later.`, { scope, limit: verdict.max }, Math.max(1, verdict.ttlInSeconds));
    }
  });
};
