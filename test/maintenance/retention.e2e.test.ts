import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaintenance } from '../../src/maintenance/scheduler.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startHistoryGateway, type HistoryGateway } from '../gateway/history/harness.js';
import type { Account } from '../gateway/transfers/harness.js';

const DAY = 24 * 60 * 60 * 1000;

/** Polls until check passes (the purge job runs on its own timer in the server). */
const eventually = async (check: () => Promise<boolean>, what: string, ms = 8000): Promise<void> => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('retention: the scheduled purge in the server', () => {
  let db: TestDatabase;
  let h: HistoryGateway;
  let me: Account;
  const f: Record<string, string> = {};
  let oldChunk: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHistoryGateway(db, { retentionDays: 30, maintenance: { purgeIntervalMs: 100, gcIntervalMs: null } });
    me = await h.newAccount();
    const file = await h.api.file(me, me.rootId, 'kept.txt', 'version one, to be purged');
    f.file = file.fileId;
    f.v1 = file.versionId;
    f.v2 = await h.api.edit(me, file, me.rootId, 'kept.txt', 'version two');
    const folder = await h.api.folder(me, me.rootId, 'Gone');
    const inside = await h.api.file(me, folder, 'inside.txt', 'in the trash');
    f.folder = folder;
    f.inside = inside.fileId;
    await h.api.remove(me, folder);
    const download = await h.call('GET', `/v1/files/${f.file}/download_request?versionId=${f.v1}`, me);
    oldChunk = (download.body.chunks as Array<{ hash: string }>)[0]?.hash ?? '';
  });
  afterAll(async () => {
    await h.gw.close();
    await db.drop();
  });

  it('keeps the trash and old versions during the retention period', async () => {
    h.clock.advance(29 * DAY);
    // A later version, superseding v2 now: v2 must outlive the purge of v1 by those 29 days.
    f.v3 = await h.api.edit(me, { fileId: f.file as string, versionId: f.v2 as string }, me.rootId, 'kept.txt', 'version three');
    await new Promise((r) => setTimeout(r, 400));
    expect(((await h.api.trash(me)).body.items as unknown[]).length).toBe(1);
    expect((await h.api.content(me, f.file as string, f.v1)).status).toBe(200);
  });

  it('purges them once it has passed: NodePurged events, 410 gone, chunk references dropped', async () => {
    const cursor = await h.cursorOf(me);
    h.clock.advance(2 * DAY);
    await eventually(async () => ((await h.api.trash(me)).body.items as unknown[]).length === 0, 'the trash to be purged');
    await eventually(async () => (await h.api.content(me, f.file as string, f.v1)).status === 410, 'v1 to be purged');
    const versions = (await h.api.versions(me, f.file as string)).body.versions as Array<{ versionId: string; purged?: boolean }>;
    expect(versions.map((v) => [v.versionId, v.purged ?? false])).toEqual([[f.v3, false], [f.v2, false], [f.v1, true]]);
    expect((await h.api.restore(me, f.file as string, f.v1 as string)).status).toBe(410);
    expect((await h.call('GET', `/v1/files/${f.inside}/download_request`, me)).status).toBe(410);
    expect((await h.api.undelete(me, f.folder as string)).status).toBe(404);
    // The chunk of v1 alone is no longer referenced by the workspace: its bytes are not served to it, and GC may take them.
    const refs = await db.pool.query('SELECT 1 FROM rm.chunk_refs WHERE workspace_id = $1 AND hash = $2', [me.workspaceId, oldChunk]);
    expect(refs.rowCount).toBe(0);
    expect((await h.api.content(me, f.file as string)).bytes.toString()).toBe('version three');
    const events = (await h.api.changes(me, cursor)).body.events as Array<{ type: string; userId: string; data: { scope: string } }>;
    expect(events.map((e) => [e.type, e.data.scope, e.userId]).sort()).toEqual([
      ['NodePurged', 'node', 'strata-retention'],
      ['NodePurged', 'versions', 'strata-retention'],
    ]);
  });

  it('runs each job on one node at a time (a pg advisory lock)', async () => {
    const m = startMaintenance(
      { pool: db.pool, handle: h.gw.deps.handle, blobs: h.gw.deps.blobs, now: h.clock.now, logger: pino({ level: 'silent' }), retentionDays: 30 },
      { purgeIntervalMs: null, gcIntervalMs: null },
    );
    const other = await db.pool.connect();
    try {
      await other.query('SELECT pg_advisory_lock(7342007, 1)');
      expect(await m.run('purge')).toBe(false);
      await other.query('SELECT pg_advisory_unlock(7342007, 1)');
      expect(await m.run('purge')).toBe(true);
    } finally {
      other.release();
      await m.stop();
    }
  });
});
