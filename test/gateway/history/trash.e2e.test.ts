import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import type { Account } from '../transfers/harness.js';
import { startHistoryGateway, type HistoryGateway } from './harness.js';

const DAY = 24 * 60 * 60 * 1000;

describe('the trash', () => {
  let db: TestDatabase;
  let h: HistoryGateway;
  let me: Account;
  let other: Account;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHistoryGateway(db, { retentionDays: 14 });
    me = await h.newAccount();
    other = await h.newAccount();
  });
  afterAll(async () => {
    await h.gw.close();
    await db.drop();
  });

  describe('a folder holding a file, deleted', () => {
    let projects: string;
    let old: string;
    let report: { fileId: string; versionId: string };
    let deletedAt: number;

    beforeAll(async () => {
      projects = await h.api.folder(me, me.rootId, 'Projects');
      old = await h.api.folder(me, projects, 'Old');
      report = await h.api.file(me, old, 'report.txt', 'the report');
      deletedAt = h.clock.now().getTime();
      await h.api.remove(me, old);
    });

    it('is listed with its path, when it was deleted and when it will be purged', async () => {
      const trash = await h.api.trash(me);
      expect(trash.status).toBe(200);
      const items = trash.body.items as Array<Record<string, string>>;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ nodeId: old, kind: 'folder', path: '/Projects/Old' });
      const at = Date.parse(items[0]?.deletedAt ?? '');
      expect(Math.abs(at - deletedAt)).toBeLessThan(5000);
      expect(Date.parse(items[0]?.purgeAt ?? '')).toBe(at + 14 * DAY);
      // What went with it is not listed on its own, and is gone from the tree.
      expect((await h.api.node(me, report.fileId)).status).toBe(404);
      expect(await h.api.children(me, projects)).toEqual([]);
    });

    it('is not shown to another workspace', async () => {
      expect((await h.call('GET', `/v1/workspaces/${me.workspaceId}/trash`, other)).status).toBe(404);
      expect(((await h.api.trash(other)).body.items as unknown[]).length).toBe(0);
      expect((await h.api.undelete(other, old)).status).toBe(404);
    });

    it('comes back at its old place with what went with it, and leaves the trash', async () => {
      const back = await h.api.undelete(me, old);
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ nodeId: old, kind: 'folder', parentId: projects, name: 'Old', path: '/Projects/Old' });
      expect((await h.api.node(me, report.fileId)).body).toMatchObject({ path: '/Projects/Old/report.txt' });
      expect((await h.api.content(me, report.fileId)).bytes.toString()).toBe('the report');
      expect((await h.api.trash(me)).body.items).toEqual([]);
      const again = await h.api.undelete(me, old);
      expect(again.status).toBe(400);
      expect(again.body.error?.details.reason).toBe('not_in_trash');
    });
  });

  describe('a file whose place was taken since', () => {
    it('comes back under a free name, "x (1).txt", then "x (2).txt"', async () => {
      const folder = await h.api.folder(me, me.rootId, 'Taken');
      const first = await h.api.file(me, folder, 'x.txt', 'one');
      await h.api.remove(me, first.fileId);
      const second = await h.api.file(me, folder, 'X.TXT', 'two');
      await h.api.remove(me, second.fileId);
      await h.api.file(me, folder, 'x.txt', 'three');
      const one = await h.api.undelete(me, first.fileId);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ name: 'x (1).txt', path: '/Taken/x (1).txt', parentId: folder });
      expect((await h.api.undelete(me, second.fileId)).body).toMatchObject({ name: 'X (2).TXT' });
      expect((await h.api.children(me, folder)).map((c) => c.name)).toEqual(['x (1).txt', 'X (2).TXT', 'x.txt']);
    });

    it('goes where it is asked, and a taken name asked for is a name_conflict', async () => {
      const a = await h.api.folder(me, me.rootId, 'A');
      const b = await h.api.folder(me, me.rootId, 'B');
      const f = await h.api.file(me, a, 'f.txt', 'f');
      await h.api.file(me, b, 'taken.txt', 't');
      await h.api.remove(me, f.fileId);
      const conflict = await h.api.undelete(me, f.fileId, { parentId: b, name: 'Taken.txt' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error?.code).toBe('name_conflict');
      const moved = await h.api.undelete(me, f.fileId, { parentId: b, name: 'renamed.txt' });
      expect(moved.body).toMatchObject({ parentId: b, name: 'renamed.txt', path: '/B/renamed.txt' });
    });

    it('goes to the root when its folder is in the trash too, and a node of a trashed folder cannot come back alone', async () => {
      const box = await h.api.folder(me, me.rootId, 'Box');
      const inner = await h.api.file(me, box, 'inner.txt', 'i');
      const loose = await h.api.file(me, box, 'loose.txt', 'l');
      await h.api.remove(me, loose.fileId);
      await h.api.remove(me, box);
      const alone = await h.api.undelete(me, inner.fileId);
      expect(alone.status).toBe(400);
      expect(alone.body.error?.details.reason).toBe('not_in_trash');
      expect((await h.api.undelete(me, loose.fileId)).body).toMatchObject({ parentId: me.rootId, path: '/loose.txt' });
      expect((await h.api.undelete(me, 'no-such-node')).status).toBe(404);
    });
  });
});
