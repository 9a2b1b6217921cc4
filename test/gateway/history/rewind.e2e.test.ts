import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import type { Account } from '../transfers/harness.js';
import { startHistoryGateway, type HistoryGateway } from './harness.js';

interface Shown {
  nodeId: string;
  name: string;
  path: string;
  contentHash?: string;
  children?: Shown[];
}

/** What a rewind must bring back: ids, names, paths and content (new versions get new ids and times). */
const essence = (n: Shown): unknown => ({
  nodeId: n.nodeId,
  name: n.name,
  path: n.path,
  contentHash: n.contentHash,
  children: n.children?.map(essence),
});

describe('rewinding a folder', () => {
  let db: TestDatabase;
  let h: HistoryGateway;
  let me: Account;
  let moment: string;
  const ids = {} as Record<'work' | 'elsewhere' | 'a' | 'b' | 'sub' | 'c' | 'old' | 'o' | 'e' | 'created' | 'namesake', string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHistoryGateway(db);
    me = await h.newAccount();
    ids.work = await h.api.folder(me, me.rootId, 'Work');
    ids.elsewhere = await h.api.folder(me, me.rootId, 'Elsewhere');
    const a = await h.api.file(me, ids.work, 'a.txt', 'A, first');
    ids.a = a.fileId;
    ids.b = (await h.api.file(me, ids.work, 'b.txt', 'B')).fileId;
    ids.sub = await h.api.folder(me, ids.work, 'Sub');
    ids.c = (await h.api.file(me, ids.sub, 'c.txt', 'C')).fileId;
    ids.old = await h.api.folder(me, ids.work, 'Old');
    ids.o = (await h.api.file(me, ids.old, 'o.txt', 'O')).fileId;
    ids.e = (await h.api.file(me, ids.elsewhere, 'e.txt', 'E')).fileId;
    moment = h.clock.now().toISOString();
    h.clock.advance(1000);

    // Since then: an edit, a delete, a creation, moves out, in and a rename, a folder replaced by a namesake.
    await h.api.edit(me, a, ids.work, 'a.txt', 'A, edited since');
    await h.api.remove(me, ids.b);
    ids.created = (await h.api.file(me, ids.work, 'new.txt', 'new')).fileId;
    await h.api.move(me, ids.c, ids.elsewhere, 'c.txt');
    await h.api.move(me, ids.sub, ids.work, 'Sub2');
    await h.api.move(me, ids.e, ids.work, 'e.txt');
    await h.api.remove(me, ids.old);
    ids.namesake = await h.api.folder(me, ids.work, 'Old');
    h.clock.advance(1000);
  });
  afterAll(async () => {
    await h.gw.close();
    await db.drop();
  });

  const liveWork = async () => (await h.api.treeAt(me, h.clock.now().toISOString(), '/Work')).body.root as Shown;

  it('plans without changing anything on a dry run', async () => {
    const before = { cursor: await h.cursorOf(me), snapshot: await h.snapshot(), work: await liveWork() };
    const plan = await h.api.rewind(me, { path: '/Work', at: moment, dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.dryRun).toBe(true);
    expect(plan.body.cursor).toBe(before.cursor);
    const changes = plan.body.changes as Array<Record<string, string>>;
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'restore', nodeId: ids.a, path: '/Work/a.txt' }),
        expect.objectContaining({ action: 'undelete', nodeId: ids.b, path: '/Work/b.txt' }),
        expect.objectContaining({ action: 'trash', nodeId: ids.created, path: '/Work/new.txt' }),
        expect.objectContaining({ action: 'move', nodeId: ids.c, path: '/Work/Sub/c.txt' }),
        expect.objectContaining({ action: 'move', nodeId: ids.sub, path: '/Work/Sub', fromPath: '/Work/Sub2' }),
        expect.objectContaining({ action: 'move', nodeId: ids.e, path: '/Elsewhere/e.txt', fromPath: '/Work/e.txt' }),
        expect.objectContaining({ action: 'trash', nodeId: ids.namesake, path: '/Work/Old' }),
        expect.objectContaining({ action: 'undelete', nodeId: ids.old, path: '/Work/Old' }),
      ]),
    );
    expect(await h.cursorOf(me)).toBe(before.cursor);
    expect(await h.snapshot()).toEqual(before.snapshot);
    expect(await liveWork()).toEqual(before.work);
  });

  it('puts the folder back as it was by appending events, in one batch', async () => {
    const cursor = await h.cursorOf(me);
    const answer = await h.api.rewind(me, { path: '/Work', at: moment, dryRun: false });
    expect(answer.status).toBe(200);
    expect(answer.body.dryRun).toBe(false);
    const changes = answer.body.changes as unknown[];
    expect(answer.body.cursor).toBe(cursor + changes.length);
    expect(await h.cursorOf(me)).toBe(answer.body.cursor);
    const then = (await h.api.treeAt(me, moment, '/Work')).body.root as Shown;
    expect(essence(await liveWork())).toEqual(essence(then));
    expect((await h.api.content(me, ids.a)).bytes.toString()).toBe('A, first');
    expect((await h.api.lookup(me, '/Elsewhere/e.txt')).body.nodeId).toBe(ids.e);
    const trash = (await h.api.trash(me)).body.items as Array<{ nodeId: string }>;
    expect(trash.map((i) => i.nodeId).sort()).toEqual([ids.created, ids.namesake].sort());
    // Nothing in the history was rewritten: the edit is still a version, and devices get plain events.
    const versions = (await h.api.versions(me, ids.a)).body.versions as Array<{ versionId: string; restoredFrom?: string }>;
    expect(versions).toHaveLength(3);
    const events = (await h.api.changes(me, cursor)).body.events as Array<{ seq: number; type: string }>;
    expect(events.map((e) => e.seq)).toEqual(changes.map((_, i) => cursor + i + 1));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['VersionRestored', 'NodeRestored', 'NodeDeleted', 'NodeMoved']));
  });

  it('has nothing left to do right after, and refuses a path that held nothing then', async () => {
    const again = await h.api.rewind(me, { path: '/Work', at: moment });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ changes: [], cursor: await h.cursorOf(me), dryRun: false });
    expect((await h.api.rewind(me, { path: '/Nowhere', at: moment })).status).toBe(404);
    expect((await h.api.rewind(me, { path: '/Work', at: '2001-01-01T00:00:00Z' })).status).toBe(404);
    expect((await h.api.rewind(me, { path: 'Work', at: moment })).status).toBe(400);
    expect((await h.call('POST', `/v1/workspaces/${me.workspaceId}/rewind`, me, { path: '/Work' })).status).toBe(400);
  });
});
