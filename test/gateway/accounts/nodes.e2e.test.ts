import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccounts } from '../../../src/gateway/accounts/index.js';
import { buildServer } from '../../../src/gateway/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { logIn, seedAccount, signUp } from './accounts.js';

describe('two gateway nodes on one database with one secret', () => {
  let db: TestDatabase;
  let one: TestGateway;
  let two: TestGateway;
  let a: ReturnType<typeof api>;
  let b: ReturnType<typeof api>;
  beforeAll(async () => {
    db = await createTestDatabase();
    const secret = crypto.randomBytes(32);
    [one, two] = await Promise.all([startTestGateway(db, { secret }), startTestGateway(db, { secret })]);
    a = api(one.url);
    b = api(two.url);
  });
  afterAll(async () => {
    await Promise.all([one.close(), two.close()]);
    await db.drop();
  });

  it('accepts on one node the tokens issued by the other', async () => {
    const account = await signUp(a);
    const device = await logIn(b, account.email, account.password);
    expect(device).toMatchObject({ userId: account.userId, workspaceId: account.workspaceId });
    expect((await a.get('/v1/devices', device.accessToken)).status).toBe(200);
    const refreshed = await b.post('/v1/auth/refresh', { refreshToken: device.refreshToken });
    expect(refreshed.status).toBe(200);
    expect((await a.get('/v1/devices', refreshed.body.accessToken as string)).status).toBe(200);
  });

  it('locks a device signed out through one node out of the other at once', async () => {
    const account = await seedAccount(db, a, 'phone');
    const laptop = await logIn(b, account.email, account.password, 'laptop');
    expect((await b.get('/v1/devices', account.device.accessToken)).status).toBe(200);
    expect((await a.delete(`/v1/devices/${account.device.deviceId}`, laptop.accessToken)).status).toBe(204);
    expect((await b.get('/v1/devices', account.device.accessToken)).status).toBe(401);
    expect((await b.post('/v1/auth/refresh', { refreshToken: account.device.refreshToken })).status).toBe(401);
    expect((await b.get('/v1/devices', laptop.accessToken)).status).toBe(200);
  });

  it('sees on one node the reuse of a refresh token rotated on the other', async () => {
    const { device } = await seedAccount(db, a);
    expect((await a.post('/v1/auth/refresh', { refreshToken: device.refreshToken })).status).toBe(200);
    expect((await b.post('/v1/auth/refresh', { refreshToken: device.refreshToken })).status).toBe(401);
    expect((await a.get('/v1/devices', device.accessToken)).status).toBe(401);
  });

  it('refuses on a node with another secret the tokens of this service', async () => {
    const stranger = await startTestGateway(db, { secret: crypto.randomBytes(32) });
    try {
      const { device } = await seedAccount(db, a);
      expect((await api(stranger.url).get('/v1/devices', device.accessToken)).status).toBe(401);
    } finally {
      await stranger.close();
    }
  });

  describe('the accounts module on its own node', () => {
    let app: FastifyInstance;
    let c: ReturnType<typeof api>;
    const revoked: Array<[string, string]> = [];
    beforeAll(async () => {
      const accounts = createAccounts({ pool: db.pool, settings: one.deps.settings, now: () => new Date(), logger: one.deps.logger });
      accounts.onDeviceRevoked((deviceId, workspaceId) => revoked.push([deviceId, workspaceId]));
      const removed = accounts.onDeviceRevoked(() => revoked.push(['removed listener', '']));
      removed();
      accounts.onDeviceRevoked(() => {
        throw new Error('a failing listener does not stop the others nor the answer');
      });
      app = await buildServer({ ...one.deps, authenticator: accounts.authenticator }, [accounts.routes]);
      c = api(await app.listen({ port: 0, host: '127.0.0.1' }));
    });
    afterAll(() => app.close());

    it('tells its listeners about revocations it makes, by sign-out and by refresh-token reuse', async () => {
      const signedOut = await seedAccount(db, c);
      const reused = await seedAccount(db, c);
      expect((await c.delete(`/v1/devices/${signedOut.device.deviceId}`, signedOut.device.accessToken)).status).toBe(204);
      expect((await c.post('/v1/auth/refresh', { refreshToken: reused.device.refreshToken })).status).toBe(200);
      expect((await c.post('/v1/auth/refresh', { refreshToken: reused.device.refreshToken })).status).toBe(401);
      expect(revoked).toEqual([
        [signedOut.device.deviceId, signedOut.workspaceId],
        [reused.device.deviceId, reused.workspaceId],
      ]);
    });
  });
});
