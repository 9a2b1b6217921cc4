import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeId, VersionId, WorkspaceId } from '../../../src/domain/ids.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import type { Account } from '../transfers/harness.js';
import { startHistoryGateway, type HistoryGateway } from './harness.js';

describe('a file with several versions', () => {
  let db: TestDatabase;
  let h: HistoryGateway;
  let me: Account;
  let other: Account;
  let file: { fileId: string; versionId: string };
  const versions: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    h = await startHistoryGateway(db);
    me = await h.newAccount();
    other = await h.newAccount();
    file = await h.api.file(me, me.rootId, 'notes.txt', 'first draft');
    versions.push(file.versionId);
    versions.push(await h.api.edit(me, { fileId: file.fileId, versionId: versions[0] as string }, me.rootId, 'notes.txt', 'second draft, longer'));
    versions.push(await h.api.edit(me, { fileId: file.fileId, versionId: versions[1] as string }, me.rootId, 'notes.txt', 'third'));
  });
  afterAll(async () => {
    await h.gw.close();
    await db.drop();
  });

  it('lists its versions newest first, with size, content hash, time and device', async () => {
    const answer = await h.api.versions(me, file.fileId);
    expect(answer.status).toBe(200);
    const listed = answer.body.versions as Array<Record<string, unknown>>;
    expect(listed.map((v) => v.versionId)).toEqual([...versions].reverse());
    expect(listed.map((v) => v.size)).toEqual([5, 20, 11]);
    for (const v of listed) {
      expect(v).toMatchObject({ deviceId: me.deviceId, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(Number.isNaN(Date.parse(v.createdAt as string))).toBe(false);
      expect(v.purged).toBeUndefined();
    }
  });

  it('restores an old version as a new one with the old content, keeping the whole history', async () => {
    const restored = await h.api.restore(me, file.fileId, versions[0] as string);
    expect(restored.status).toBe(201);
    expect(restored.body.cursor).toBe(await h.cursorOf(me));
    const newVersion = restored.body.versionId as string;
    expect(versions).not.toContain(newVersion);
    const content = await h.api.content(me, file.fileId);
    expect(content.bytes.toString()).toBe('first draft');
    const listed = (await h.api.versions(me, file.fileId)).body.versions as Array<Record<string, unknown>>;
    expect(listed.map((v) => v.versionId)).toEqual([newVersion, ...[...versions].reverse()]);
    expect(listed[0]).toMatchObject({ restoredFrom: versions[0], size: 11 });
    expect((await h.api.node(me, file.fileId)).body).toMatchObject({ versionId: newVersion, size: 11 });
    const events = (await h.api.changes(me, Number(restored.body.cursor) - 1)).body.events as Array<{ type: string; data: Record<string, unknown> }>;
    expect(events.map((e) => e.type)).toEqual(['VersionRestored']);
    expect(events[0]?.data).toMatchObject({ restoredFromVersionId: versions[0], versionId: newVersion });
    versions.push(newVersion);
  });

  it('answers 410 gone for a version whose bytes were purged, on restore, download_request and content', async () => {
    const purged = versions[1] as string;
    const result = await h.gw.deps.handle({
      type: 'PurgeNode',
      workspaceId: me.workspaceId as WorkspaceId,
      data: { nodeId: file.fileId as NodeId, versionIds: [purged as VersionId] },
      metadata: h.meta(me),
    });
    expect(E.isRight(result)).toBe(true);
    const restore = await h.api.restore(me, file.fileId, purged);
    expect(restore.status).toBe(410);
    expect(restore.body.error?.code).toBe('gone');
    expect((await h.call('GET', `/v1/files/${file.fileId}/download_request?versionId=${purged}`, me)).status).toBe(410);
    expect((await h.api.content(me, file.fileId, purged)).status).toBe(410);
    const listed = (await h.api.versions(me, file.fileId)).body.versions as Array<Record<string, unknown>>;
    expect(listed.find((v) => v.versionId === purged)).toMatchObject({ purged: true });
    // The others are untouched.
    expect((await h.api.content(me, file.fileId, versions[2])).bytes.toString()).toBe('third');
  });

  it('refuses what is not there: another workspace, an unknown file or version, a folder', async () => {
    expect((await h.api.versions(other, file.fileId)).status).toBe(404);
    expect((await h.api.restore(other, file.fileId, versions[0] as string)).status).toBe(404);
    expect((await h.api.versions(me, 'no-such-file')).status).toBe(404);
    expect((await h.api.restore(me, file.fileId, 'no-such-version')).status).toBe(404);
    expect((await h.api.restore(me, file.fileId, 'bad id with spaces')).status).toBe(404);
    const folder = await h.api.folder(me, me.rootId, 'Docs');
    expect((await h.api.versions(me, folder)).status).toBe(404);
    expect((await h.call('POST', `/v1/files/${file.fileId}/restore`, me, {})).status).toBe(400);
  });
});
