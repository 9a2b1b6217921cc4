import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loginDevice, newEmail, type Device } from '../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('the tree API', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let http: ReturnType<typeof api>;
  let me: Device;
  let other: Device;
  const folder = async (parentId: string, name: string, who = me) => http.post('/v1/folders', { workspaceId: who.workspaceId, parentId, name }, who.accessToken);

  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db);
    http = api(gw.url);
    me = await loginDevice(gw.url, newEmail());
    other = await loginDevice(gw.url, newEmail());
  });
  afterAll(async () => {
    await gw.close();
    await db.drop();
  });

  it('shows a new workspace: its root, cursor 1, nothing used', async () => {
    const ws = await http.get(`/v1/workspaces/${me.workspaceId}`, me.accessToken);
    expect(ws.status).toBe(200);
    expect(ws.body).toMatchObject({ workspaceId: me.workspaceId, rootId: me.rootId, cursor: 1, usedBytes: 0 });
    expect(ws.body.quotaBytes).toBeGreaterThan(0);
  });

  describe('a folder', () => {
    it('is created with its path, found by path under case folding and NFC, and read back by id', async () => {
      const docs = await folder(me.rootId, 'Docs');
      expect(docs.status).toBe(201);
      expect(docs.body).toMatchObject({ kind: 'folder', parentId: me.rootId, name: 'Docs', path: '/Docs' });
      const cafe = await folder(docs.body.nodeId as string, 'Caf\u00e9');
      expect(cafe.body.path).toBe('/Docs/Caf\u00e9');
      const found = await http.get(`/v1/workspaces/${me.workspaceId}/lookup?path=${encodeURIComponent('/docs/CAFE\u0301')}`, me.accessToken);
      expect(found.status).toBe(200);
      expect(found.body.nodeId).toBe(cafe.body.nodeId);
      expect((await http.get(`/v1/nodes/${cafe.body.nodeId}`, me.accessToken)).body).toEqual(cafe.body);
    });

    it('refuses a sibling whose name differs only by case or normalization, and invalid names', async () => {
      const parent = (await folder(me.rootId, 'Names')).body.nodeId as string;
      await folder(parent, 'R\u00e9sum\u00e9');
      for (const clash of ['r\u00e9sum\u00e9', 'RE\u0301SUME\u0301']) {
        const r = await folder(parent, clash);
        expect(r.status).toBe(409);
        expect(r.body.error?.code).toBe('name_conflict');
      }
      for (const bad of ['a/b', 'nul\u0000', '..', '.', '', 'x'.repeat(300), 'tab\there']) {
        const r = await folder(parent, bad);
        expect(r.status, JSON.stringify(bad)).toBe(400);
        expect(r.body.error?.code).toBe('invalid_request');
      }
    });

    it('pages its children by name', async () => {
      const parent = (await folder(me.rootId, 'Many')).body.nodeId as string;
      for (const n of ['e', 'B', 'a', 'd', 'C']) await folder(parent, n);
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await http.get(`/v1/nodes/${parent}/children?limit=2${after ? `&after=${after}` : ''}`, me.accessToken);
        expect(page.status).toBe(200);
        const items = page.body.items as Array<{ name: string }>;
        expect(items.length).toBeLessThanOrEqual(2);
        seen.push(...items.map((i) => i.name));
        after = page.body.next as string | undefined;
      } while (after !== undefined);
      expect(seen).toEqual(['a', 'B', 'C', 'd', 'e']);
    });
  });

  describe('moving', () => {
    it('renames in place, changes only the case, moves a subtree in one event, and refuses cycles', async () => {
      const a = (await folder(me.rootId, 'A')).body.nodeId as string;
      const b = (await folder(a, 'B')).body.nodeId as string;
      const c = (await folder(b, 'C')).body.nodeId as string;
      const before = (await http.get(`/v1/workspaces/${me.workspaceId}`, me.accessToken)).body.cursor as number;
      const renamed = await http.post(`/v1/nodes/${b}/move`, { parentId: a, name: 'b' }, me.accessToken);
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'b', path: '/A/b' });
      const moved = await http.post(`/v1/nodes/${b}/move`, { parentId: me.rootId, name: 'B2' }, me.accessToken);
      expect(moved.body.path).toBe('/B2');
      expect((await http.get(`/v1/nodes/${c}`, me.accessToken)).body.path).toBe('/B2/C');
      expect((await http.get(`/v1/workspaces/${me.workspaceId}`, me.accessToken)).body.cursor).toBe(before + 2);
      const cycle = await http.post(`/v1/nodes/${b}/move`, { parentId: c, name: 'B2' }, me.accessToken);
      expect(cycle.status).toBe(409);
      expect(cycle.body.error?.code).toBe('cycle');
    });
  });

  describe('deleting', () => {
    it('answers the cursor and the node is gone from the tree', async () => {
      const gone = (await folder(me.rootId, 'Gone')).body.nodeId as string;
      const inside = (await folder(gone, 'Inside')).body.nodeId as string;
      const del = await http.delete(`/v1/nodes/${gone}`, me.accessToken);
      expect(del.status).toBe(200);
      expect(del.body.cursor).toBe((await http.get(`/v1/workspaces/${me.workspaceId}`, me.accessToken)).body.cursor);
      expect((await http.get(`/v1/nodes/${inside}`, me.accessToken)).status).toBe(404);
      expect((await http.delete(`/v1/nodes/${me.rootId}`, me.accessToken)).body.error?.code).toBe('forbidden');
    });
  });

  describe("another workspace's resources", () => {
    it('answer not_found, never revealing that they exist', async () => {
      const mine = (await folder(me.rootId, 'Private')).body.nodeId as string;
      const asOther = [
        await http.get(`/v1/nodes/${mine}`, other.accessToken),
        await http.get(`/v1/nodes/${mine}/children`, other.accessToken),
        await http.post(`/v1/nodes/${mine}/move`, { parentId: other.rootId, name: 'stolen' }, other.accessToken),
        await http.delete(`/v1/nodes/${mine}`, other.accessToken),
        await http.get(`/v1/workspaces/${me.workspaceId}`, other.accessToken),
        await http.get(`/v1/workspaces/${me.workspaceId}/changes?cursor=0`, other.accessToken),
        await folder(mine, 'x', other),
        await http.get('/v1/nodes/not.an.id', other.accessToken),
      ];
      for (const r of asOther) {
        expect(r.status).toBe(404);
        expect(r.body.error?.code).toBe('not_found');
      }
      expect((await http.get(`/v1/nodes/${mine}`, me.accessToken)).status).toBe(200);
    });

    it('are not reachable without a valid token', async () => {
      for (const token of [undefined, 'garbage', `${me.accessToken}x`]) {
        const r = await http.get(`/v1/workspaces/${me.workspaceId}`, token);
        expect(r.status).toBe(401);
        expect(r.body.error?.code).toBe('unauthorized');
      }
    });
  });

  it('refuses malformed bodies with invalid_request naming the field', async () => {
    const wrongType = await http.post('/v1/folders', { workspaceId: me.workspaceId, parentId: me.rootId, name: 7 }, me.accessToken);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error?.details.field).toBe('body.name');
    const missing = await http.post('/v1/folders', { workspaceId: me.workspaceId, name: 'x' }, me.accessToken);
    expect(missing.body.error?.details.field).toBe('body.parentId');
    const malformed = await http.post('/v1/folders', '{"workspaceId": ', me.accessToken);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('invalid_request');
  });
});
