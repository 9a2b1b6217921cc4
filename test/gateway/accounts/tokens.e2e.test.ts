import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDevicePull } from '../../../src/gateway/accounts/index.js';
import { accessTokenKey, signAccessToken } from '../../../src/gateway/accounts/tokens.js';
import type { AuthContext } from '../../../src/gateway/http/auth.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { logIn, seedAccount } from './accounts.js';

describe('a logged-in device', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let http: ReturnType<typeof api>;
  const secret = crypto.randomBytes(32);
  // The gateway's clock: tests move it forward to expire tokens without sleeping.
  let clock = new Date('2026-03-01T12:00:00.000Z');
  const advance = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db, { secret, now: () => clock });
    http = api(gw.url);
  });
  afterAll(async () => {
    await gw.close();
    await db.drop();
  });

  const authorized = async (token: string) => (await http.get('/v1/devices', token)).status;

  describe('refreshing its tokens', () => {
    it('rotates: the new pair works, the old refresh token is used up', async () => {
      const { device } = await seedAccount(db, http);
      const res = await http.post('/v1/auth/refresh', { refreshToken: device.refreshToken });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken']);
      expect(res.body.expiresIn).toBe(900);
      expect(res.body.refreshToken).not.toBe(device.refreshToken);
      expect(await authorized(res.body.accessToken as string)).toBe(200);
      const again = await http.post('/v1/auth/refresh', { refreshToken: res.body.refreshToken });
      expect(again.status).toBe(200);
      const stored = await db.pool.query('SELECT count(*)::int AS n, count(used_at)::int AS used FROM refresh_tokens WHERE device_id = $1', [device.deviceId]);
      expect(stored.rows).toEqual([{ n: 3, used: 2 }]);
    });

    it('stores only hashes of refresh tokens', async () => {
      const { device } = await seedAccount(db, http);
      const { rows } = await db.pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM refresh_tokens WHERE device_id = $1', [device.deviceId]);
      expect(rows.map((r) => r.token_hash)).toEqual([crypto.createHash('sha256').update(device.refreshToken).digest()]);
    });

    it('refuses an unknown refresh token', async () => {
      const res = await http.post('/v1/auth/refresh', { refreshToken: crypto.randomBytes(32).toString('base64url') });
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe('unauthorized');
    });

    it('revokes the device when a used refresh token comes back', async () => {
      const { device } = await seedAccount(db, http);
      const rotated = await http.post('/v1/auth/refresh', { refreshToken: device.refreshToken });
      expect(rotated.status).toBe(200);
      const replay = await http.post('/v1/auth/refresh', { refreshToken: device.refreshToken });
      expect(replay.status).toBe(401);
      expect(replay.body.error?.code).toBe('unauthorized');
      // Both holders are locked out: the new refresh token and every access token of the device.
      expect((await http.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(401);
      expect(await authorized(rotated.body.accessToken as string)).toBe(401);
      expect(await authorized(device.accessToken)).toBe(401);
      const { rows } = await db.pool.query('SELECT revoked_reason FROM devices WHERE device_id = $1', [device.deviceId]);
      expect(rows).toEqual([{ revoked_reason: 'refresh_token_reuse' }]);
    });

    it('lets exactly one of two simultaneous uses of one refresh token through', async () => {
      const { device } = await seedAccount(db, http);
      const answers = await Promise.all([0, 1].map(() => http.post('/v1/auth/refresh', { refreshToken: device.refreshToken })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    });
  });

  describe('its access token', () => {
    it('expires after its lifetime, and a refresh gets a fresh one', async () => {
      const { device } = await seedAccount(db, http);
      advance(899);
      expect(await authorized(device.accessToken)).toBe(200);
      advance(1);
      const expired = await http.get('/v1/devices', device.accessToken);
      expect(expired.status).toBe(401);
      expect(expired.body.error?.code).toBe('unauthorized');
      const refreshed = await http.post('/v1/auth/refresh', { refreshToken: device.refreshToken });
      expect(await authorized(refreshed.body.accessToken as string)).toBe(200);
    });

    it('refuses a token signed with the right key but a past expiry', async () => {
      const { device } = await seedAccount(db, http);
      const who = { userId: device.userId, workspaceId: device.workspaceId, deviceId: device.deviceId } as AuthContext;
      const key = accessTokenKey(secret);
      expect(await authorized(signAccessToken(key, who, clock, 60))).toBe(200);
      expect(await authorized(signAccessToken(key, who, new Date(clock.getTime() - 901_000), 900))).toBe(401);
    });

    it('refuses forgeries: another key, an altered payload, alg none', async () => {
      const { device } = await seedAccount(db, http);
      const victim = await seedAccount(db, http);
      const [header, payload, signature] = device.accessToken.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const asVictim = encode({ ...claims, sub: victim.userId, wid: victim.workspaceId, did: victim.device.deviceId });
      const who = { userId: device.userId, workspaceId: device.workspaceId, deviceId: device.deviceId } as AuthContext;
      for (const forged of [
        signAccessToken(accessTokenKey(crypto.randomBytes(32)), who, clock, 900),
        signAccessToken(secret, who, clock, 900),
        `${header}.${asVictim}.${signature}`,
        `${header}.${encode({ ...claims, exp: (claims.exp as number) + 86_400 })}.${signature}`,
        `${encode({ alg: 'none', typ: 'JWT' })}.${asVictim}.`,
        `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
        `${header}.${payload}.${signature.slice(0, -1)}`,
      ]) {
        const res = await http.get('/v1/devices', forged);
        expect(res.status).toBe(401);
        expect(res.body.error?.code).toBe('unauthorized');
      }
      expect(await authorized(device.accessToken)).toBe(200);
    });
  });

  describe('signing a device out', () => {
    it('stops that device’s access and refresh tokens at once, and leaves the user’s other device working', async () => {
      const account = await seedAccount(db, http, 'phone');
      const laptop = await logIn(http, account.email, account.password, 'laptop');
      const res = await http.delete(`/v1/devices/${account.device.deviceId}`, laptop.accessToken);
      expect(res.status).toBe(204);
      expect(res.body).toBeUndefined();
      expect(await authorized(account.device.accessToken)).toBe(401);
      expect((await http.post('/v1/auth/refresh', { refreshToken: account.device.refreshToken })).status).toBe(401);
      const listed = await http.get('/v1/devices', laptop.accessToken);
      expect(listed.status).toBe(200);
      expect((listed.body.devices as Array<{ deviceId: string }>).map((d) => d.deviceId)).toEqual([laptop.deviceId]);
      expect((await http.post('/v1/auth/refresh', { refreshToken: laptop.refreshToken })).status).toBe(200);
    });

    it('can sign out the calling device itself', async () => {
      const { device } = await seedAccount(db, http);
      expect((await http.delete(`/v1/devices/${device.deviceId}`, device.accessToken)).status).toBe(204);
      expect(await authorized(device.accessToken)).toBe(401);
    });

    it('answers not_found for another user’s device, an unknown one and one already signed out', async () => {
      const mine = await seedAccount(db, http);
      const theirs = await seedAccount(db, http);
      const spare = await logIn(http, mine.email, mine.password, 'spare');
      await http.delete(`/v1/devices/${spare.deviceId}`, mine.device.accessToken);
      for (const id of [theirs.device.deviceId, crypto.randomUUID(), 'no-such-device', spare.deviceId]) {
        const res = await http.delete(`/v1/devices/${id}`, mine.device.accessToken);
        expect(res.status).toBe(404);
        expect(res.body.error?.code).toBe('not_found');
      }
      expect(await authorized(theirs.device.accessToken)).toBe(200);
    });

    it('requires a token', async () => {
      const { device } = await seedAccount(db, http);
      expect((await http.delete(`/v1/devices/${device.deviceId}`)).status).toBe(401);
    });
  });

  describe('its place in the list', () => {
    it('shows the last cursor it pulled (never moving back) and when it was last seen', async () => {
      const { device } = await seedAccount(db, http);
      const loggedInAt = clock.toISOString();
      await recordDevicePull(db.pool, device.deviceId, 7, clock);
      await recordDevicePull(db.pool, device.deviceId, 3, new Date(clock.getTime() - 5000));
      const list = async () => ((await http.get('/v1/devices', device.accessToken)).body.devices as Array<{ cursor: number; lastSeenAt: string; createdAt: string }>)[0];
      expect(await list()).toMatchObject({ cursor: 7, createdAt: loggedInAt, lastSeenAt: loggedInAt });
      // Authenticating moves lastSeenAt forward, at most once a minute.
      advance(30);
      expect((await list())?.lastSeenAt).toBe(loggedInAt);
      advance(31);
      expect((await list())?.lastSeenAt).toBe(clock.toISOString());
    });
  });
});
