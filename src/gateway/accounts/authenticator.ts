import type { Logger } from 'pino';
import type { Authenticator } from '../http/auth.js';
import type { LivenessCache } from './liveness.js';
import { findLiveDevice, touchDevice, type LiveDevice, type Queryable } from './repository.js';
import { verifyAccessToken } from './tokens.js';

export interface AuthenticatorDeps {
  readonly db: Queryable;
  /** The access-token key (tokens.accessTokenKey of the service secret). */
  readonly key: Buffer;
  readonly now: () => Date;
  readonly logger: Logger;
  /** last_seen_at is written at most this often per device; default one minute. */
  readonly lastSeenResolutionMs?: number;
  /** Devices known to be live; absent: every request reads the device row. */
  readonly liveness?: LivenessCache;
}

/**
 * Checks the token's signature and expiry, then that its device is not revoked. Without a liveness
 * cache that is a primary-key read in Postgres on every request. With one (a node that hears every
 * node's revocations), a live device is remembered for a few seconds: revoking forgets it on every
 * node before the revocation is answered (revocations.ts), so a revoked device is still locked out
 * of all nodes at once, and a morning burst of requests costs no database read per request.
 */
export const createAuthenticator = (deps: AuthenticatorDeps): Authenticator => {
  const resolution = deps.lastSeenResolutionMs ?? 60_000;
  const liveDevice = async (deviceId: string): Promise<LiveDevice | null> => {
    const cache = deps.liveness;
    const known = cache?.get(deviceId);
    if (known !== undefined) return known;
    const ticket = cache?.ticket();
    const device = await findLiveDevice(deps.db, deviceId);
    if (device !== null && cache !== undefined && ticket !== undefined) cache.remember(ticket, deviceId, device);
    return device;
  };
  return {
    authenticate: async (accessToken) => {
      const now = deps.now();
      const claims = verifyAccessToken(deps.key, accessToken, now);
      if (claims === null) return null;
      const device = await liveDevice(claims.deviceId);
      if (device === null || device.userId !== claims.userId || device.workspaceId !== claims.workspaceId) return null;
      if (now.getTime() - device.lastSeenAt.getTime() >= resolution) {
        deps.liveness?.seen(claims.deviceId, now);
        await touchDevice(deps.db, claims.deviceId, now).catch((err: unknown) => deps.logger.warn({ err }, 'could not record device last_seen_at'));
      }
      return claims;
    },
  };
};
