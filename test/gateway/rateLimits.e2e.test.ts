import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loginDevice, newEmail, type Device } from '../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';
import { servicesRequired } from '../support/services.js';

const redisUrl = inject('redisUrl');

describe('rate limits', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let noisy: Device;
  let sameWorkspace: Device;
  let elsewhere: Device;
  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db, { settings: { rateLimits: { devicePerMinute: 10, workspacePerMinute: 15, addressPerMinute: 1000 } } });
    const email = newEmail();
    noisy = await loginDevice(gw.url, email, 'noisy');
    sameWorkspace = await loginDevice(gw.url, email, 'quiet', false);
    elsewhere = await loginDevice(gw.url, newEmail(), 'other');
  });
  afterAll(async () => {
    await gw.close();
    await db.drop();
  });

  it('answer 429 rate_limited with Retry-After once a device spends its budget, without starving other devices', async () => {
    const http = api(gw.url);
    // loginDevice already spent one call per device (GET workspace).
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await http.get(`/v1/workspaces/${noisy.workspaceId}`, noisy.accessToken)).status);
    expect(statuses.slice(0, 9).every((s) => s === 200)).toBe(true);
    const limited = await http.get(`/v1/workspaces/${noisy.workspaceId}`, noisy.accessToken);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: { scope: 'device' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await http.get(`/v1/workspaces/${sameWorkspace.workspaceId}`, sameWorkspace.accessToken)).status).toBe(200);
    expect((await http.get(`/v1/workspaces/${elsewhere.workspaceId}`, elsewhere.accessToken)).status).toBe(200);
  });

  it('also cap a workspace as a whole', async () => {
    const http = api(gw.url);
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) status = (await http.get(`/v1/workspaces/${sameWorkspace.workspaceId}`, sameWorkspace.accessToken)).status;
    const limited = await http.get(`/v1/workspaces/${sameWorkspace.workspaceId}`, sameWorkspace.accessToken);
    expect(limited.status).toBe(429);
    expect(limited.body.error?.details.scope).toMatch(/device|workspace/);
    expect((await http.get(`/v1/workspaces/${elsewhere.workspaceId}`, elsewhere.accessToken)).status).toBe(200);
  });

  it('leave health, readiness and metrics alone', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

describe.skipIf(redisUrl === null && !servicesRequired())('rate limits across nodes', () => {
  it('count a device against one budget whichever node it calls', async () => {
    if (redisUrl === null) throw new Error('Redis is required (STRATA_REQUIRE_SERVICES=1) but not reachable');
    const db = await createTestDatabase();
    const secret = Buffer.from('rate-limit-shared-secret-0123456789abcdef');
    const settings = { rateLimits: { devicePerMinute: 8, workspacePerMinute: 100, addressPerMinute: 1000 } };
    const a = await startTestGateway(db, { redisUrl, secret, settings });
    const b = await startTestGateway(db, { redisUrl, secret, settings });
    try {
      const device = await loginDevice(a.url, newEmail());
      const codes: number[] = [];
      for (let i = 0; i < 10; i++) codes.push((await api(i % 2 === 0 ? a.url : b.url).get(`/v1/workspaces/${device.workspaceId}`, device.accessToken)).status);
      expect(codes.filter((c) => c === 200).length).toBeLessThanOrEqual(8);
      expect(codes).toContain(429);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
