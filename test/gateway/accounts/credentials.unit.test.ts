import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../src/gateway/accounts/passwords.js';
import { accessTokenKey, hashRefreshToken, newRefreshToken, signAccessToken, verifyAccessToken } from '../../../src/gateway/accounts/tokens.js';
import type { AuthContext } from '../../../src/gateway/http/auth.js';

// Cheap parameters keep the suite fast; the default (N = 2^15) is exercised once below.
const FAST = { logN: 10, r: 8, p: 1 };

describe('a password hash', () => {
  it('verifies the password it was made from and nothing else', async () => {
    const stored = await hashPassword('correct horse battery staple', FAST);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('carries its parameters and a fresh salt, so equal passwords hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', FAST), hashPassword('same password', FAST)]);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('uses N = 2^15, r = 8, p = 1 by default', async () => {
    const stored = await hashPassword('päss wörd ✓');
    expect(stored.startsWith('$scrypt$ln=15,r=8,p=1$')).toBe(true);
    // NFC and NFD spellings of one password are the same password.
    expect(await verifyPassword('päss wörd ✓'.normalize('NFD'), stored)).toBe(true);
  });

  it('refuses hashes it cannot read or whose cost is out of bounds', async () => {
    const stored = await hashPassword('password1', FAST);
    expect(await verifyPassword('password1', 'plaintext')).toBe(false);
    expect(await verifyPassword('password1', stored.replace('ln=10', 'ln=30'))).toBe(false);
    expect(await verifyPassword('password1', stored.slice(0, -2))).toBe(false);
  });
});

const who = { userId: 'u1', workspaceId: 'w1', deviceId: 'd1' } as unknown as AuthContext;
const key = accessTokenKey(crypto.randomBytes(32));
const t0 = new Date('2026-03-01T12:00:00.000Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('an access token', () => {
  const token = signAccessToken(key, who, t0, 900);

  it('is a compact HS256 JWT naming the user, workspace and device, with its expiry', () => {
    const [header, payload] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({ sub: 'u1', wid: 'w1', did: 'd1', iat: 1772366400, exp: 1772367300 });
  });

  it('verifies until it expires', () => {
    expect(verifyAccessToken(key, token, t0)).toEqual(who);
    expect(verifyAccessToken(key, token, later(899.999))).toEqual(who);
    expect(verifyAccessToken(key, token, later(900))).toBeNull();
  });

  it('does not verify under another key, nor under the raw secret it was derived from', () => {
    const secret = crypto.randomBytes(32);
    const derived = signAccessToken(accessTokenKey(secret), who, t0, 900);
    expect(verifyAccessToken(accessTokenKey(crypto.randomBytes(32)), derived, t0)).toBeNull();
    expect(verifyAccessToken(secret, derived, t0)).toBeNull();
  });

  it('does not verify when any part is altered', () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const otherPayload = b64({ sub: 'u1', wid: 'w1', did: 'd2', iat: 1772366400, exp: 1772367300 });
    const flipped = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const forged of [
      `${header}.${otherPayload}.${signature}`,
      `${header}.${payload}.${flipped(signature, signature.length - 1)}`,
      `${header}.${payload}.${flipped(signature, 0)}`,
      `${header}.${flipped(payload, 3)}.${signature}`,
      `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
      `${b64({ alg: 'HS512', typ: 'JWT' })}.${payload}.${signature}`,
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.x`,
      '',
      'not a token',
    ])
      expect(verifyAccessToken(key, forged, t0)).toBeNull();
  });

  it('does not verify a correctly signed payload that lacks a claim or has a malformed id', () => {
    const signed = (claims: unknown) => {
      const input = `${token.split('.')[0]}.${b64(claims)}`;
      return `${input}.${crypto.createHmac('sha256', key).update(input).digest('base64url')}`;
    };
    expect(verifyAccessToken(key, signed({ sub: 'u1', wid: 'w1', did: 'd1', iat: 1772366400, exp: 1772367300 }), t0)).toEqual(who);
    expect(verifyAccessToken(key, signed({ sub: 'u1', wid: 'w1', iat: 1772366400, exp: 1772367300 }), t0)).toBeNull();
    expect(verifyAccessToken(key, signed({ sub: 'u/1', wid: 'w1', did: 'd1', iat: 1772366400, exp: 1772367300 }), t0)).toBeNull();
    expect(verifyAccessToken(key, signed({ sub: 'u1', wid: 'w1', did: 'd1', iat: 1772366400, exp: '9999999999' }), t0)).toBeNull();
  });
});

describe('a refresh token', () => {
  it('is 32 random bytes in base64url, stored as its SHA-256', () => {
    const token = newRefreshToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newRefreshToken()).not.toBe(token);
    expect(hashRefreshToken(token)).toEqual(crypto.createHash('sha256').update(token).digest());
    expect(hashRefreshToken(token)).toHaveLength(32);
  });
});
