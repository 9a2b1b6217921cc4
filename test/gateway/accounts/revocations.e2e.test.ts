import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { createRedisDeviceLiveness } from '../../../src/gateway/accounts/revocations.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { servicesRequired } from '../../support/services.js';
import { logIn, seedAccount } from './accounts.js';

const redisUrl = inject('redisUrl');

describe.skipIf(redisUrl === null && !servicesRequired())('nodes that remember live devices, on one Postgres and one Redis', () => {
  let db: TestDatabase;
  let one: TestGateway;
  let two: TestGateway;
  let a: ReturnType<typeof api>;
  let b: ReturnType<typeof api>;
  beforeAll(async () => {
    if (redisUrl === null) throw new Error('Redis is required (STRATA_REQUIRE_SERVICES=1) but not reachable');
    db = await createTestDatabase();
    const secret = crypto.randomBytes(32);
    [one, two] = await Promise.all([startTestGateway(db, { secret, redisUrl }), startTestGateway(db, { secret, redisUrl })]);
    a = api(one.url);
    b = api(two.url);
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
    await db?.drop();
  });

  it('lock a device signed out through one node out of the other at once, every time', async () => {
    const account = await seedAccount(db, a, 'laptop');
    const phones = await Promise.all(Array.from({ length: 8 }, (_, i) => logIn(a, account.email, account.password, `phone ${i}`)));
    for (const phone of phones) expect((await b.get('/v1/devices', phone.accessToken)).status).toBe(200);
    for (const [i, phone] of phones.entries()) {
      const [via, other] = i % 2 === 0 ? [a, b] : [b, a];
      expect((await via.delete(`/v1/devices/${phone.deviceId}`, account.device.accessToken)).status).toBe(204);
      expect((await other.get('/v1/devices', phone.accessToken)).status).toBe(401);
      expect((await via.get('/v1/devices', phone.accessToken)).status).toBe(401);
    }
    expect((await b.get('/v1/devices', account.device.accessToken)).status).toBe(200);
  });

  it('lock out at once on every node a device whose refresh token was reused', async () => {
    const { device } = await seedAccount(db, a);
    expect((await b.get('/v1/devices', device.accessToken)).status).toBe(200);
    expect((await a.post('/v1/auth/refresh', { refreshToken: device.refreshToken })).status).toBe(200);
    expect((await a.post('/v1/auth/refresh', { refreshToken: device.refreshToken })).status).toBe(401);
    expect((await b.get('/v1/devices', device.accessToken)).status).toBe(401);
  });

  it('do not ask Postgres again for a device they know is live (a revocation written behind their back waits for the TTL)', async () => {
    const { device } = await seedAccount(db, a);
    expect((await b.get('/v1/devices', device.accessToken)).status).toBe(200);
    await db.pool.query("UPDATE devices SET revoked_at = now(), revoked_reason = 'deleted' WHERE device_id = $1", [device.deviceId]);
    expect((await b.get('/v1/devices', device.accessToken)).status).toBe(200);
    // A node that never saw the device reads it, and refuses it.
    const three = await startTestGateway(db, { secret: one.deps.settings.secret, redisUrl });
    try {
      expect((await api(three.url).get('/v1/devices', device.accessToken)).status).toBe(401);
    } finally {
      await three.close();
    }
  });
});

describe.skipIf(redisUrl === null && !servicesRequired())('the revocation channel', () => {
  const connections: Redis[] = [];
  const connect = () => {
    const r = new Redis(redisUrl as string, { maxRetriesPerRequest: 2 });
    connections.push(r);
    return r;
  };
  afterAll(() => Promise.all(connections.map((r) => r.quit().catch(() => r.disconnect()))));
  const device = { userId: 'u', workspaceId: 'w', lastSeenAt: new Date() };

  it('answers a revocation only once every listening node has forgotten the device', async () => {
    const logger = pino({ level: 'silent' });
    const here = await createRedisDeviceLiveness({ pub: connect(), sub: connect() }, logger);
    // A slow node: it hears messages 150 ms late.
    const slowSub = connect();
    const slowView = {
      on: (event: string, listener: (...args: unknown[]) => void) =>
        slowSub.on(event, event === 'message' ? (...args: unknown[]) => void setTimeout(() => listener(...args), 150) : listener),
      off: (event: string, listener: (...args: unknown[]) => void) => slowSub.off(event, listener),
      subscribe: (...channels: string[]) => slowSub.subscribe(...channels),
      unsubscribe: (...channels: string[]) => slowSub.unsubscribe(...channels),
    } as unknown as Redis;
    const slow = await createRedisDeviceLiveness({ pub: connect(), sub: slowView }, logger);
    const deviceId = crypto.randomUUID();
    slow.cache.remember(slow.cache.ticket(), deviceId, device);
    const started = performance.now();
    await here.revoke(deviceId);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(slow.cache.get(deviceId)).toBeUndefined();
    await Promise.all([here.close(), slow.close()]);
  });

  it('switches a node\'s cache off while it cannot hear revocations, and on again once it can', async () => {
    const sub = connect();
    const liveness = await createRedisDeviceLiveness({ pub: connect(), sub }, pino({ level: 'silent' }));
    liveness.cache.remember(liveness.cache.ticket(), 'd1', device);
    expect(liveness.cache.get('d1')).toBeDefined();
    const closed = new Promise((resolve) => sub.once('close', resolve));
    sub.disconnect(true);
    await closed;
    expect(liveness.cache.get('d1')).toBeUndefined();
    liveness.cache.remember(liveness.cache.ticket(), 'd1', device);
    expect(liveness.cache.get('d1')).toBeUndefined();
    for (let i = 0; i < 100 && liveness.cache.get('d1') === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      liveness.cache.remember(liveness.cache.ticket(), 'd1', device);
    }
    expect(liveness.cache.get('d1')).toBeDefined();
    await liveness.close();
  });
});
