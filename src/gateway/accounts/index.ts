import crypto from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { GatewaySettings, RouteModule } from '../deps.js';
import type { Authenticator } from '../http/auth.js';
import { createAuthenticator } from './authenticator.js';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, type ScryptParams } from './passwords.js';
import { createPullRecorder } from './pulls.js';
import type { DeviceLiveness } from './revocations.js';
import { accountRoutes } from './routes.js';
import { accessTokenKey } from './tokens.js';

export { recordDevicePull, type Queryable } from './repository.js';
export { createRedisDeviceLiveness, type DeviceLiveness } from './revocations.js';

/** The contract's ceiling: "Access tokens live at most 15 minutes". */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 900;
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export type DeviceRevokedListener = (deviceId: string, workspaceId: string) => void;

export interface AccountsOptions {
  readonly pool: pg.Pool;
  readonly settings: Pick<GatewaySettings, 'secret' | 'accessTokenTtlSeconds'>;
  readonly now: () => Date;
  readonly logger: Logger;
  /** How long an unused refresh token stays valid; each rotation starts a new one. Default 30 days. */
  readonly refreshTokenTtlSeconds?: number;
  /** scrypt cost for new hashes (existing hashes carry their own). */
  readonly passwordParams?: ScryptParams;
  /**
   * Remembers live devices for a short while so authentication skips Postgres, kept honest by
   * revocations heard from every node (Redis). Absent: every authentication reads the device row.
   */
  readonly liveness?: DeviceLiveness;
  /** Pulls of the changes feed are written at most this often (coalesced per device); default 1 s. */
  readonly pullFlushIntervalMs?: number;
}

export interface Accounts {
  /** Checks bearer tokens for defineRoute(..., {auth: true}) and the socket handshake. */
  readonly authenticator: Authenticator;
  /** signup, login, refresh, GET /v1/devices, DELETE /v1/devices/{deviceId}. */
  readonly routes: RouteModule;
  /**
   * Calls listener after a device's revocation is committed by this process (DELETE /v1/devices/{id},
   * or reuse of a used refresh token), so live connections of that device can be closed. It fires
   * only on the node that revoked: other nodes' sockets are reached through the socket.io adapter
   * (e.g. a room per device and `io.in(room).disconnectSockets()`), and every node's authenticator
   * already refuses the device's tokens. Returns a function that removes the listener.
   */
  onDeviceRevoked(listener: DeviceRevokedListener): () => void;
  /** A device pulled the changes feed up to cursor: kept in memory, written within a second, shown by GET /v1/devices at once. */
  recordPull(deviceId: string, cursor: number, at: Date): void;
  /** Writes the pulls still in memory. */
  close(): Promise<void>;
}

/** Accounts, devices and tokens: the Authenticator implementation and the routes of api-v1.md "Accounts and devices". */
export const createAccounts = (options: AccountsOptions): Accounts => {
  const key = accessTokenKey(options.settings.secret);
  const passwordParams = options.passwordParams ?? DEFAULT_SCRYPT_PARAMS;
  const listeners = new Set<DeviceRevokedListener>();
  const deviceRevoked = async (deviceId: string, workspaceId: string): Promise<void> => {
    // Forgotten here and announced to every node before the listeners act; answered once all forgot it.
    const everywhere = options.liveness?.revoke(deviceId);
    for (const listener of listeners) {
      try {
        listener(deviceId, workspaceId);
      } catch (err) {
        options.logger.error({ err, deviceId }, 'device revocation listener failed');
      }
    }
    await everywhere;
  };
  const pulls = createPullRecorder({ db: options.pool, logger: options.logger, intervalMs: options.pullFlushIntervalMs });
  // Made once, ahead of the first login with an unknown email, so that one costs no more than the rest.
  const decoyHash = hashPassword(crypto.randomBytes(16).toString('base64url'), passwordParams);
  return {
    authenticator: createAuthenticator({ db: options.pool, key, now: options.now, logger: options.logger, liveness: options.liveness?.cache }),
    routes: accountRoutes({
      key,
      accessTokenTtlSeconds: Math.min(options.settings.accessTokenTtlSeconds, MAX_ACCESS_TOKEN_TTL_SECONDS),
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
      passwordParams,
      decoyHash,
      deviceRevoked,
      flushPulls: pulls.flush,
    }),
    onDeviceRevoked: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    recordPull: (deviceId, cursor, at) => pulls.record(deviceId, cursor, at),
    close: () => pulls.close(),
  };
};
