import { beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../support/db.js';
import { loginDevice, newEmail, type Device } from '../../support/devices.js';
import { api, useGateway, type TestGateway } from '../../support/gateway.js';

type Result = { status: number; nodeId?: string; cursor?: number; error?: { code: string } };

describe('folders made many at once (folders/create_batch)', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let http: ReturnType<typeof api>;
  let me: Device;
  let other: Device;
  const batch = (folders: readonly { parentId: string; name: string }[], who = me, workspaceId = who.workspaceId) =>
    http.post('/v1/folders/create_batch', { workspaceId, folders }, who.accessToken);
  const eventCount = async () => Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM es_events')).rows[0]?.n);

  useGateway((d, g) => ([db, gw, http] = [d, g, api(g.url)]));
  beforeAll(async () => {
    me = await loginDevice(gw.url, newEmail());
    other = await loginDevice(gw.url, newEmail());
  });

  it('makes each as POST /v1/folders would, in one durable write, and answers each with its node and cursor', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `d${i}`);
    const answer = await batch(names.map((name) => ({ parentId: me.rootId, name })));
    expect(answer.status).toBe(200);
    const results = answer.body.results as Result[];
    expect(results.map((r) => r.status)).toEqual(names.map(() => 201));
    expect(results.map((r) => r.cursor)).toEqual(names.map((_, i) => 2 + i));
    expect(answer.body.cursor).toBe(51);
    for (const [i, r] of results.entries()) {
      const node = await http.get(`/v1/nodes/${r.nodeId}`, me.accessToken);
      expect(node.body).toMatchObject({ kind: 'folder', parentId: me.rootId, name: names[i], path: `/${names[i]}` });
    }
    const { rows } = await db.pool.query<{ txs: string }>("SELECT count(DISTINCT tx_id)::text AS txs FROM es_events WHERE type = 'FolderCreated' AND data->>'name' LIKE 'd%'");
    expect(rows[0]?.txs).toBe('1');
  });

  it('answers a refused folder as POST /v1/folders would and makes the others: a name taken before or earlier in the batch, an unknown parent', async () => {
    const taken = await http.post('/v1/folders', { workspaceId: me.workspaceId, parentId: me.rootId, name: 'Taken' }, me.accessToken);
    const answer = await batch([
      { parentId: me.rootId, name: 'taken' },
      { parentId: me.rootId, name: 'Fresh' },
      { parentId: me.rootId, name: 'FRESH' },
      { parentId: 'no-such-folder', name: 'x' },
      { parentId: taken.body.nodeId as string, name: 'inside' },
      { parentId: me.rootId, name: 'bad/name' },
    ]);
    expect(answer.status).toBe(200);
    const results = answer.body.results as Result[];
    const single = await http.post('/v1/folders', { workspaceId: me.workspaceId, parentId: me.rootId, name: 'bad/name' }, me.accessToken);
    expect(results.map((r) => r.status)).toEqual([409, 201, 409, 404, 201, single.status]);
    expect(results.map((r) => r.error?.code ?? 'ok')).toEqual(['name_conflict', 'ok', 'name_conflict', 'not_found', 'ok', (single.body.error as { code: string }).code]);
    const inside = await http.get(`/v1/workspaces/${me.workspaceId}/lookup?path=${encodeURIComponent('/Taken/inside')}`, me.accessToken);
    expect(inside.body.nodeId).toBe(results[4]?.nodeId);
  });

  it('refuses the whole request only for what concerns all of it, changing nothing', async () => {
    const before = await eventCount();
    expect((await batch([])).status).toBe(400);
    expect((await batch(Array.from({ length: 1001 }, (_, i) => ({ parentId: me.rootId, name: `n${i}` })))).status).toBe(400);
    expect((await batch([{ parentId: me.rootId, name: 'x' }], me, other.workspaceId)).status).toBe(404);
    expect((await http.post('/v1/folders/create_batch', { workspaceId: me.workspaceId, folders: [{ parentId: me.rootId }] }, me.accessToken)).status).toBe(400);
    expect((await http.post('/v1/folders/create_batch', { workspaceId: me.workspaceId, folders: [{ parentId: me.rootId, name: 'x' }] })).status).toBe(401);
    expect(await eventCount()).toBe(before);
  });
});
