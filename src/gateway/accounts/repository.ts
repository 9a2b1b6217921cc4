import type pg from 'pg';
import { prepared } from '../../storage/postgres/prepared.js';
import { inTransaction, pgConstraint, pgErrorCode } from '../../storage/postgres/transaction.js';

/** A pool or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface UserRow {
  readonly userId: string;
  readonly workspaceId: string;
  readonly passwordHash: string;
}

export interface DeviceView {
  readonly deviceId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly cursor: number;
}

export interface LiveDevice {
  readonly userId: string;
  readonly workspaceId: string;
  readonly lastSeenAt: Date;
}

export interface NewDevice {
  readonly deviceId: string;
  readonly userId: string;
  readonly workspaceId: string;
  readonly name: string;
  readonly at: Date;
}

export interface IssuedRefreshToken {
  readonly hash: Buffer;
  readonly expiresAt: Date;
}

export type RotationOutcome =
  | { readonly kind: 'rotated'; readonly userId: string; readonly workspaceId: string; readonly deviceId: string }
  | { readonly kind: 'reused'; readonly deviceId: string; readonly workspaceId: string }
  | { readonly kind: 'invalid' };

export type RevokeReason = 'deleted' | 'refresh_token_reuse';

export const emailTaken = async (db: Queryable, email: string): Promise<boolean> =>
  (await db.query('SELECT 1 FROM users WHERE email = $1', [email])).rowCount !== 0;

/** Inserts the user; false when the email is already taken (a concurrent signup won). */
export const insertUser = async (db: Queryable, user: { userId: string; email: string; passwordHash: string; workspaceId: string; at: Date }): Promise<boolean> => {
  try {
    await db.query('INSERT INTO users (user_id, email, password_hash, workspace_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
      user.userId,
      user.email,
      user.passwordHash,
      user.workspaceId,
      user.at,
    ]);
    return true;
  } catch (e) {
    if (pgErrorCode(e) === '23505' && pgConstraint(e) === 'users_email_unique') return false;
    throw e;
  }
};

export const findUserByEmail = async (db: Queryable, email: string): Promise<UserRow | null> => {
  const { rows } = await db.query<{ user_id: string; workspace_id: string; password_hash: string }>(
    'SELECT user_id, workspace_id, password_hash FROM users WHERE email = $1',
    [email],
  );
  const row = rows[0];
  return row === undefined ? null : { userId: row.user_id, workspaceId: row.workspace_id, passwordHash: row.password_hash };
};

const insertRefreshToken = (db: Queryable, deviceId: string, token: IssuedRefreshToken, at: Date) =>
  db.query('INSERT INTO refresh_tokens (token_hash, device_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)', [token.hash, deviceId, at, token.expiresAt]);

/** Registers a device and its first refresh token, together. */
export const createDevice = (pool: pg.Pool, device: NewDevice, refresh: IssuedRefreshToken): Promise<void> =>
  inTransaction(pool, async (client) => {
    await client.query(
      'INSERT INTO devices (device_id, user_id, workspace_id, name, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)',
      [device.deviceId, device.userId, device.workspaceId, device.name, device.at],
    );
    await insertRefreshToken(client, device.deviceId, refresh, device.at);
  });

const liveDeviceStatement = prepared('accounts_live_device', 'SELECT user_id, workspace_id, last_seen_at FROM devices WHERE device_id = $1 AND revoked_at IS NULL');

/** The device when it exists and is not revoked: one primary-key read, made on every authenticated request. */
export const findLiveDevice = async (db: Queryable, deviceId: string): Promise<LiveDevice | null> => {
  const { rows } = await db.query<{ user_id: string; workspace_id: string; last_seen_at: Date }>(liveDeviceStatement([deviceId]));
  const row = rows[0];
  return row === undefined ? null : { userId: row.user_id, workspaceId: row.workspace_id, lastSeenAt: row.last_seen_at };
};

/** Moves last_seen_at forward to at (never back). */
export const touchDevice = async (db: Queryable, deviceId: string, at: Date): Promise<void> => {
  await db.query('UPDATE devices SET last_seen_at = $2 WHERE device_id = $1 AND last_seen_at < $2', [deviceId, at]);
};

/**
 * Records that a device pulled the changes feed up to cursor (at the given time). Monotonic: an
 * older cursor or time arriving late never moves either back.
 */
export const recordDevicePull = async (db: Queryable, deviceId: string, cursor: number, at: Date): Promise<void> => {
  await db.query('UPDATE devices SET cursor = GREATEST(cursor, $2), last_seen_at = GREATEST(last_seen_at, $3) WHERE device_id = $1', [deviceId, cursor, at]);
};

/** The user's devices that are not revoked, oldest first. */
export const listDevices = async (db: Queryable, userId: string): Promise<DeviceView[]> => {
  const { rows } = await db.query<{ device_id: string; name: string; created_at: Date; last_seen_at: Date; cursor: string }>(
    'SELECT device_id, name, created_at, last_seen_at, cursor FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, device_id',
    [userId],
  );
  return rows.map((r) => ({
    deviceId: r.device_id,
    name: r.name,
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    cursor: Number(r.cursor),
  }));
};

const revokeInTransaction = async (client: Queryable, deviceId: string, at: Date, reason: RevokeReason): Promise<void> => {
  await client.query('UPDATE devices SET revoked_at = $2, revoked_reason = $3 WHERE device_id = $1 AND revoked_at IS NULL', [deviceId, at, reason]);
  // A revoked device's refresh tokens can never be used again; presenting one is simply unknown.
  await client.query('DELETE FROM refresh_tokens WHERE device_id = $1', [deviceId]);
};

/** Revokes one of the user's live devices; its workspace id, or null when the user has no such live device. */
export const revokeDevice = (pool: pg.Pool, userId: string, deviceId: string, at: Date): Promise<string | null> =>
  inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ workspace_id: string }>(
      'SELECT workspace_id FROM devices WHERE device_id = $1 AND user_id = $2 AND revoked_at IS NULL FOR UPDATE',
      [deviceId, userId],
    );
    const row = rows[0];
    if (row === undefined) return null;
    await revokeInTransaction(client, deviceId, at, 'deleted');
    return row.workspace_id;
  });

/**
 * Exchanges a refresh token for a new one. The presented token is locked, so of two concurrent
 * uses exactly one rotates and the other is reuse. Reuse of a used token revokes the device: one of
 * the two holders is not the device.
 */
export const rotateRefreshToken = (pool: pg.Pool, presented: Buffer, next: IssuedRefreshToken, at: Date): Promise<RotationOutcome> =>
  inTransaction(pool, async (client): Promise<RotationOutcome> => {
    const { rows } = await client.query<{ device_id: string; user_id: string; workspace_id: string; expires_at: Date; used_at: Date | null; revoked_at: Date | null }>(
      `SELECT t.device_id, d.user_id, d.workspace_id, t.expires_at, t.used_at, d.revoked_at
         FROM refresh_tokens t JOIN devices d ON d.device_id = t.device_id
        WHERE t.token_hash = $1 FOR UPDATE OF t, d`,
      [presented],
    );
    const row = rows[0];
    if (row === undefined || row.revoked_at !== null) return { kind: 'invalid' };
    if (row.used_at !== null) {
      await revokeInTransaction(client, row.device_id, at, 'refresh_token_reuse');
      return { kind: 'reused', deviceId: row.device_id, workspaceId: row.workspace_id };
    }
    if (row.expires_at <= at) return { kind: 'invalid' };
    await client.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [presented, at]);
    // Expired tokens can no longer be used nor meaningfully reused: rotation sweeps the device's own.
    await client.query('DELETE FROM refresh_tokens WHERE device_id = $1 AND expires_at < $2', [row.device_id, at]);
    await insertRefreshToken(client, row.device_id, next, at);
    return { kind: 'rotated', userId: row.user_id, workspaceId: row.workspace_id, deviceId: row.device_id };
  });
