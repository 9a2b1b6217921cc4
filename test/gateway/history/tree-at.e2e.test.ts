import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import type { Account } from '../transfers/harness.js';
import { startHistoryGateway, type HistoryGateway } from './harness.js';

interface Shown {
  nodeId: string;
  kind: string;
  name: string;
  path: string;
  modifiedAt: string;
  size?: number;
  versionId?: string;
  contentHash?: string;
  children?: Shown[];
}

describe('the tree at a moment', () => {
  let db: TestDatabase;
  let h: HistoryGateway;
  let me: Account;
  /** What the live API showed at each moment: the whole tree walked with children, and the cursor. */
  const moments: Array<{ at: string; cursor: number; root: Shown; docs: Shown | null }> = [];

  /** The live tree as GET /v1/nodes/{id}/children (every page) and lookup show it right now. */
  const liveTree = async (node: Record<string, unknown>): Promise<Shown> => {
    const shown: Shown = { nodeId: node.nodeId as string, kind: node.kind as string, name: node.name as string, path: node.path as string, modifiedAt: node.modifiedAt as string };
    if (node.kind === 'file') return { ...shown, size: node.size as number, versionId: node.versionId as string, contentHash: node.contentHash as string };
    return { ...shown, children: await Promise.all((await h.api.children(me, shown.nodeId)).map(liveTree)) };
  };

  const record = async () => {
    const root = (await h.api.lookup(me, '/')).body;
    const docs = await h.api.lookup(me, '/docs');
    moments.push({
      at: h.clock.now().toISOString(),
      cursor: await h.cursorOf(me),
      root: await liveTree(root),
      docs: docs.status === 200 ? await liveTree(docs.body) : null,
    });
    // Whatever happens next is recorded strictly after this moment.
    h.clock.advance(1000);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHistoryGateway(db);
    me = await h.newAccount();
    h.clock.advance(1000);
    await record();

    const docs = await h.api.folder(me, me.rootId, 'Docs');
    const a = await h.api.file(me, docs, 'a.txt', 'alpha');
    const photos = await h.api.folder(me, me.rootId, 'Photos');
    const p = await h.api.file(me, photos, 'p.jpg', 'a picture');
    await record();

    const a2 = await h.api.edit(me, a, docs, 'a.txt', 'alpha, edited');
    await h.api.move(me, p.fileId, docs, 'P.jpg');
    await h.api.move(me, photos, me.rootId, 'Pictures');
    const sub = await h.api.folder(me, docs, 'Sub');
    await h.api.file(me, sub, 'deep.txt', 'deep');
    await record();

    await h.api.remove(me, sub);
    await h.api.restore(me, a.fileId, a.versionId);
    await h.api.remove(me, photos);
    await h.api.undelete(me, photos);
    await record();

    await h.api.remove(me, docs);
    await h.api.file(me, me.rootId, 'docs', 'a file named like the old folder');
    void a2;
    await record();
  });
  afterAll(async () => {
    await h.gw.close();
    await db.drop();
  });

  it('equals what the live tree showed at each moment, rebuilt from the log later', async () => {
    expect(moments).toHaveLength(5);
    for (const m of moments) {
      const answer = await h.api.treeAt(me, m.at);
      expect(answer.status, m.at).toBe(200);
      expect(answer.body).toEqual({ at: m.at, cursor: m.cursor, root: m.root });
    }
  });

  it('shows the subtree at a path, as it was, found under case folding', async () => {
    for (const m of moments) {
      const answer = await h.api.treeAt(me, m.at, '/DOCS');
      if (m.docs === null) expect(answer.status).toBe(404);
      else if (m.docs.kind === 'file') expect(answer.body.root).toEqual(m.docs);
      else expect(answer.body).toEqual({ at: m.at, cursor: m.cursor, root: m.docs });
    }
    const shallow = await h.api.treeAt(me, moments[2]?.at ?? '', '/');
    expect(shallow.status).toBe(200);
    const depth0 = await h.call('GET', `/v1/workspaces/${me.workspaceId}/tree?at=${encodeURIComponent(moments[2]?.at ?? '')}&depth=1`, me);
    const children = (depth0.body.root as Shown).children ?? [];
    expect(children.map((c) => c.name)).toEqual(['Docs', 'Pictures']);
    expect(children.every((c) => c.children?.length === 0 || c.children === undefined)).toBe(true);
  });

  it('accepts timestamps with an offset and refuses what is not one; before the workspace existed nothing was there', async () => {
    const m = moments[1];
    const offset = new Date(Date.parse(m?.at ?? '')).toISOString().replace('Z', '+00:00');
    expect((await h.api.treeAt(me, offset)).body.cursor).toBe(m?.cursor);
    const bad = await h.api.treeAt(me, 'yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.details.field).toBe('query.at');
    expect((await h.api.treeAt(me, '2001-01-01T00:00:00Z')).status).toBe(404);
    expect((await h.api.treeAt(me, moments[4]?.at ?? '', 'relative/path')).status).toBe(400);
    const other = await h.newAccount();
    expect((await h.call('GET', `/v1/workspaces/${me.workspaceId}/tree?at=${encodeURIComponent(m?.at ?? '')}`, other)).status).toBe(404);
  });
});
