import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loginDevice, newEmail, syncSocket, type Device } from '../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';
import { servicesRequired } from '../support/services.js';

const redisUrl = inject('redisUrl');

describe('syncing a workspace', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let http: ReturnType<typeof api>;
  let laptop: Device;
  let phone: Device;
  const email = newEmail();

  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db);
    http = api(gw.url);
    laptop = await loginDevice(gw.url, email, 'laptop');
    phone = await loginDevice(gw.url, email, 'phone', false);
  });
  afterAll(async () => {
    await gw.close();
    await db.drop();
  });

  const mkdir = (name: string) => http.post('/v1/folders', { workspaceId: laptop.workspaceId, parentId: laptop.rootId, name }, laptop.accessToken);
  const changes = (cursor: number, limit?: number, who = phone) =>
    http.get(`/v1/workspaces/${laptop.workspaceId}/changes?cursor=${cursor}${limit === undefined ? '' : `&limit=${limit}`}`, who.accessToken);

  it('pages the changes feed: contiguous seqs, the cursor of the last event, hasMore until the end', async () => {
    for (let i = 0; i < 7; i++) expect((await mkdir(`page-${i}`)).status).toBe(201);
    const all = await changes(0, 5000);
    const head = all.body.cursor as number;
    const seqs: number[] = [];
    let cursor = 0;
    for (;;) {
      const page = await changes(cursor, 3);
      expect(page.status).toBe(200);
      const events = page.body.events as Array<{ seq: number; type: string; at: string; deviceId: string | null; nodeId: string; data: Record<string, unknown> }>;
      seqs.push(...events.map((e) => e.seq));
      if (events.length > 0) expect(page.body.cursor).toBe(events[events.length - 1]?.seq);
      cursor = page.body.cursor as number;
      if (!page.body.hasMore) break;
      expect(events).toHaveLength(3);
    }
    expect(seqs).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    const created = (all.body.events as Array<{ type: string; deviceId: string; data: { name: string; parentId: string } }>).find((e) => e.type === 'FolderCreated');
    expect(created).toMatchObject({ deviceId: laptop.deviceId, data: { name: 'page-0', parentId: laptop.rootId } });
    const atEnd = await changes(head);
    expect(atEnd.body).toEqual({ events: [], cursor: head, hasMore: false });
  });

  it('remembers the cursor each device pulled', async () => {
    const head = (await changes(0, 5000)).body.cursor as number;
    const devices = await http.get('/v1/devices', laptop.accessToken);
    const mine = (devices.body.devices as Array<{ deviceId: string; cursor: number }>).find((d) => d.deviceId === phone.deviceId);
    expect(mine?.cursor).toBe(head);
  });

  it('refuses a bad cursor or limit with invalid_request', async () => {
    for (const q of ['cursor=-1', 'cursor=abc', '', 'cursor=0&limit=0']) {
      const r = await http.get(`/v1/workspaces/${laptop.workspaceId}/changes?${q}`, phone.accessToken);
      expect(r.status, q).toBe(400);
      expect(r.body.error?.code).toBe('invalid_request');
    }
  });

  it('long-polls: answers at once when behind, wakes on a commit, and times out with changes: false', async () => {
    const head = (await changes(0, 5000)).body.cursor as number;
    const behind = await http.get(`/v1/workspaces/${laptop.workspaceId}/changes/longpoll?cursor=${head - 1}&timeout=10`, phone.accessToken);
    expect(behind.body).toEqual({ changes: true, cursor: head });
    const started = Date.now();
    const waiting = http.get(`/v1/workspaces/${laptop.workspaceId}/changes/longpoll?cursor=${head}&timeout=20`, phone.accessToken);
    await new Promise((r) => setTimeout(r, 200));
    await mkdir('wake-up');
    const woke = await waiting;
    expect(woke.body).toEqual({ changes: true, cursor: head + 1 });
    expect(Date.now() - started).toBeLessThan(5000);
    const quiet = await http.get(`/v1/workspaces/${laptop.workspaceId}/changes/longpoll?cursor=${head + 1}&timeout=1`, phone.accessToken);
    expect(quiet.body).toEqual({ changes: false, cursor: head + 1 });
  });

  it("pushes the new cursor to the workspace's other devices over the socket, and only to them", async () => {
    const phoneSocket = await syncSocket(gw.url, phone.accessToken);
    const stranger = await loginDevice(gw.url, newEmail());
    const strangerSocket = await syncSocket(gw.url, stranger.accessToken);
    try {
      const created = await mkdir('pushed');
      const cursor = (await http.get(`/v1/workspaces/${laptop.workspaceId}`, laptop.accessToken)).body.cursor as number;
      expect(created.status).toBe(201);
      expect(await phoneSocket.next(cursor - 1)).toBe(cursor);
      expect(phoneSocket.pushes.at(-1)).toEqual({ workspaceId: laptop.workspaceId, cursor });
      await new Promise((r) => setTimeout(r, 100));
      expect(strangerSocket.pushes).toEqual([]);
    } finally {
      phoneSocket.socket.close();
      strangerSocket.socket.close();
    }
  });

  it('refuses a socket without a valid token', async () => {
    await expect(syncSocket(gw.url, 'forged')).rejects.toThrow(/unauthorized/);
  });

  it('cuts the socket of a device that is revoked', async () => {
    const tablet = await loginDevice(gw.url, email, 'tablet', false);
    const s = await syncSocket(gw.url, tablet.accessToken);
    const disconnected = new Promise<string>((resolve) => s.socket.once('disconnect', (reason) => resolve(reason)));
    expect((await http.delete(`/v1/devices/${tablet.deviceId}`, laptop.accessToken)).status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
  });
});

describe.skipIf(redisUrl === null && !servicesRequired())('two server nodes on one Postgres and one Redis', () => {
  let db: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    if (redisUrl === null) throw new Error('Redis is required (STRATA_REQUIRE_SERVICES=1) but not reachable');
    db = await createTestDatabase();
    const secret = Buffer.from('shared-secret-of-both-nodes-0123456789');
    a = await startTestGateway(db, { redisUrl, secret });
    b = await startTestGateway(db, { redisUrl, secret });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('behave as one service: a device on A is told of a commit made through B, and either node serves it', async () => {
    const email = newEmail();
    const onA = await loginDevice(a.url, email, 'laptop');
    const onB = await loginDevice(b.url, email, 'phone', false);
    const socketOnA = await syncSocket(a.url, onA.accessToken);
    try {
      const polling = api(a.url).get(`/v1/workspaces/${onA.workspaceId}/changes/longpoll?cursor=1&timeout=20`, onA.accessToken);
      await new Promise((r) => setTimeout(r, 200));
      const made = await api(b.url).post('/v1/folders', { workspaceId: onB.workspaceId, parentId: onB.rootId, name: 'from-B' }, onB.accessToken);
      expect(made.status).toBe(201);
      expect(await socketOnA.next(1)).toBe(2);
      expect((await polling).body).toEqual({ changes: true, cursor: 2 });
      for (const node of [a, b]) {
        const feed = await api(node.url).get(`/v1/workspaces/${onA.workspaceId}/changes?cursor=1`, onA.accessToken);
        expect((feed.body.events as Array<{ type: string; data: { name: string } }>).map((e) => [e.type, e.data.name])).toEqual([['FolderCreated', 'from-B']]);
      }
    } finally {
      socketOnA.socket.close();
    }
  });

  it('cut a revoked device off on every node at once', async () => {
    const email = newEmail();
    const laptop = await loginDevice(a.url, email, 'laptop');
    const phone = await loginDevice(a.url, email, 'phone', false);
    const phoneSocketOnB = await syncSocket(b.url, phone.accessToken);
    const disconnected = new Promise<string>((resolve) => phoneSocketOnB.socket.once('disconnect', (reason) => resolve(reason)));
    expect((await api(a.url).delete(`/v1/devices/${phone.deviceId}`, laptop.accessToken)).status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    expect((await api(b.url).get(`/v1/workspaces/${phone.workspaceId}`, phone.accessToken)).status).toBe(401);
  });
});
