import type pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/gateway/accounts/authenticator.js';
import { createLivenessCache } from '../../../src/gateway/accounts/liveness.js';
import { accessTokenKey, signAccessToken } from '../../../src/gateway/accounts/tokens.js';
import type { AuthContext } from '../../../src/gateway/http/auth.js';

const device = { userId: 'u1', workspaceId: 'w1', lastSeenAt: new Date('2026-03-01T12:00:00Z') };

describe('the liveness cache', () => {
  it('remembers a live device until its time is up', () => {
    let now = 0;
    const cache = createLivenessCache({ ttlMs: 30_000, clock: () => now });
    cache.remember(cache.ticket(), 'd1', device);
    now = 29_999;
    expect(cache.get('d1')).toEqual(device);
    now = 30_000;
    expect(cache.get('d1')).toBeUndefined();
  });

  it('forgets a revoked device, and does not remember a lookup that began before the revocation was heard', () => {
    const cache = createLivenessCache({ ttlMs: 30_000 });
    cache.remember(cache.ticket(), 'd1', device);
    const ticket = cache.ticket();
    cache.forget('d1');
    cache.remember(ticket, 'd1', device);
    expect(cache.get('d1')).toBeUndefined();
  });

  it('answers nothing and remembers nothing while switched off', () => {
    const cache = createLivenessCache({ ttlMs: 30_000 });
    cache.remember(cache.ticket(), 'd1', device);
    cache.enable(false);
    cache.remember(cache.ticket(), 'd2', device);
    cache.enable(true);
    expect([cache.get('d1'), cache.get('d2'), cache.size]).toEqual([undefined, undefined, 0]);
  });

  it('stays within its number of entries', () => {
    const cache = createLivenessCache({ ttlMs: 30_000, maxEntries: 2 });
    for (const d of ['a', 'b', 'c']) cache.remember(cache.ticket(), d, device);
    expect([cache.get('a'), cache.size]).toEqual([undefined, 2]);
  });
});

describe('an authenticator with a liveness cache', () => {
  const key = accessTokenKey(Buffer.from('0123456789abcdef0123456789abcdef'));
  const now = new Date('2026-03-01T12:00:30Z');
  const who = { userId: 'u1', workspaceId: 'w1', deviceId: 'd1' } as unknown as AuthContext;
  const token = signAccessToken(key, who, now, 900);
  const countingDb = (revoked: () => boolean) => {
    const statements: string[] = [];
    return {
      statements,
      db: {
        query: async (config: pg.QueryConfig | string) => {
          const text = typeof config === 'string' ? config : config.text;
          statements.push(text);
          const live = text.includes('revoked_at IS NULL') && !revoked();
          return { rows: live ? [{ user_id: 'u1', workspace_id: 'w1', last_seen_at: device.lastSeenAt }] : [], rowCount: live ? 1 : 0 } as unknown as pg.QueryResult;
        },
      },
    };
  };

  it('reads the device once for many requests, and again once it was forgotten', async () => {
    let revoked = false;
    const { db, statements } = countingDb(() => revoked);
    const liveness = createLivenessCache({ ttlMs: 30_000 });
    const auth = createAuthenticator({ db, key, now: () => now, logger: pino({ level: 'silent' }), liveness });
    for (let i = 0; i < 100; i++) expect(await auth.authenticate(token)).toMatchObject({ deviceId: 'd1' });
    expect(statements.filter((s) => s.startsWith('SELECT'))).toHaveLength(1);
    revoked = true;
    liveness.forget('d1');
    expect(await auth.authenticate(token)).toBeNull();
    expect(statements.filter((s) => s.startsWith('SELECT'))).toHaveLength(2);
  });

  it('reads the device on every request without one', async () => {
    const { db, statements } = countingDb(() => false);
    const auth = createAuthenticator({ db, key, now: () => now, logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 3; i++) await auth.authenticate(token);
    expect(statements.filter((s) => s.startsWith('SELECT'))).toHaveLength(3);
  });
});
