import type { Logger } from 'pino';
import type { Authenticator } from '../http/auth.js';
import { findLiveDevice, touchDevice, type Queryable } from './repository.js';
import { verifyAccessToken } from './tokens.js';

export interface AuthenticatorDeps {
  readonly db: Queryable;
  /** The access-token key (tokens.accessTokenKey of the service secret). */
  readonly key: Buffer;
  readonly now: () => Date;
  readonly logger: Logger;
  /** last_seen_at is written at most this often per device; default one minute. */
  readonly lastSeenResolutionMs?: number;
}

/**
 * Checks the token's signature and expiry, then that its device is not revoked: a primary-key read
 * in Postgres on every request, so a revocation through any node locks the device out of all of
 * them at once (a per-node cache would leave a window as long as its lifetime).
 */
export const createAuthenticator = (deps: AuthenticatorDeps): Authenticator => {
  const resolution = deps.lastSeenResolutionMs ?? 60_000;
  return {
    authenticate: async (accessToken) => {
      const now = deps.now();
      const claims = verifyAccessToken(deps.key, accessToken, now);
      if (claims === null) return null;
      const device = await findLiveDevice(deps.db, claims.deviceId);
      if (device === null || device.userId !== claims.userId || device.workspaceId !== claims.workspaceId) return null;
      if (now.getTime() - device.lastSeenAt.getTime() >= resolution)
        await touchDevice(deps.db, claims.deviceId, now).catch((err: unknown) => deps.logger.warn({ err }, 'could not record device last_seen_at'));
      return claims;
    },
  };
};
