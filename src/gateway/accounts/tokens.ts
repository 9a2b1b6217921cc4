import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { DeviceId, UserId, WorkspaceId } from '../../domain/ids.js';
import type { AuthContext } from '../http/auth.js';

// Access tokens are compact JWTs (HS256) made with node:crypto. A library would bring algorithm
// negotiation we do not want (the classic "alg: none" and RS/HS confusion bugs) for what is one
// HMAC and two base64url strings: this module accepts exactly one header and one algorithm.

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const SEGMENT = /^[A-Za-z0-9_-]+$/;

const Claims = t.type({
  sub: UserId,
  wid: WorkspaceId,
  did: DeviceId,
  iat: t.number,
  exp: t.number,
});

/**
 * The service secret also signs transfer URLs: access tokens use a key derived for them alone, so
 * no other signature made with the secret can ever pass as a token.
 */
export const accessTokenKey = (secret: Buffer): Buffer => crypto.createHmac('sha256', secret).update('strata/access-token/v1').digest();

const sign = (key: Buffer, input: string): Buffer => crypto.createHmac('sha256', key).update(input).digest();

/** A signed access token for the device, valid for ttlSeconds from now. */
export const signAccessToken = (key: Buffer, who: AuthContext, now: Date, ttlSeconds: number): string => {
  const iat = Math.floor(now.getTime() / 1000);
  const payload = Buffer.from(JSON.stringify({ sub: who.userId, wid: who.workspaceId, did: who.deviceId, iat, exp: iat + ttlSeconds })).toString('base64url');
  const input = `${HEADER}.${payload}`;
  return `${input}.${sign(key, input).toString('base64url')}`;
};

/** Who the token speaks for, or null when it is malformed, forged or expired (revocation is checked elsewhere). */
export const verifyAccessToken = (key: Buffer, token: string, now: Date): AuthContext | null => {
  if (token.length > 4096) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  // The header must be byte-for-byte ours: no alg to choose, no key id to look up.
  if (header !== HEADER || !SEGMENT.test(payload)) return null;
  // Compared as canonical text, not decoded bytes: base64url decoding ignores a last character's
  // spare bits, and a token that differs in any character must not verify.
  const expected = Buffer.from(sign(key, `${header}.${payload}`).toString('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const claims = Claims.decode(json);
  if (E.isLeft(claims)) return null;
  if (claims.right.exp <= now.getTime() / 1000) return null;
  return { userId: claims.right.sub, workspaceId: claims.right.wid, deviceId: claims.right.did };
};

/** A new opaque refresh token: 32 random bytes, base64url. Only its hash is stored. */
export const newRefreshToken = (): string => crypto.randomBytes(32).toString('base64url');

/** What the database keeps of a refresh token: a leaked table holds nothing a client could present. */
export const hashRefreshToken = (token: string): Buffer => crypto.createHash('sha256').update(token).digest();
