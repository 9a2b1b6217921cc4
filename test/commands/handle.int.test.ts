import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleCommand } from '../../src/commands/handle.js';
import { createDatabaseCounter } from '../support/pgCounters.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { chunkOf, commandsFor } from '../support/workspaceCommands.js';
import { newWorkspaceId, streamEvents, useWorkspaceDatabase } from '../support/workspaceHarness.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected success, got ${JSON.stringify(e.left)}`);
  return e.right;
};

describe('handling workspace commands against Postgres', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  useWorkspaceDatabase((d, h) => ([db, handle] = [d, h]));

  describe('a new workspace', () => {
    it('records each accepted command as events and answers the cursor they reached', async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      expect(right(await handle(c.createWorkspace())).cursor).toBe(1);
      expect(right(await handle(c.createFolder('root', 'Docs', 'docs'))).cursor).toBe(2);
      const commit = right(await handle(c.commitNew('docs', 'a.txt', [chunkOf('a')], 'fa')));
      expect(commit.cursor).toBe(3);
      expect(commit.events[0]?.event.type).toBe('FileVersionCommitted');
      expect((await streamEvents(db, ws)).map((e) => e.type)).toEqual(['WorkspaceCreated', 'FolderCreated', 'FileVersionCommitted']);
    });

    it('lets exactly one of several racing creators create it; the others are re-decided into workspace_exists', async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      const results = await Promise.all(Array.from({ length: 6 }, () => handle(c.createWorkspace())));
      expect(results.filter(E.isRight)).toHaveLength(1);
      expect(results.filter(E.isLeft).map((r) => (E.isLeft(r) ? r.left.code : ''))).toEqual(Array(5).fill('workspace_exists'));
      expect(await streamEvents(db, ws)).toHaveLength(1);
    });
  });

  describe('a workspace with a file', () => {
    const setup = async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      right(await handle(c.createWorkspace()));
      const first = right(await handle(c.commitNew('root', 'notes.md', [chunkOf('v1')], 'f1')));
      return { ws, c, file: { fileId: 'f1', parentId: 'root', name: 'notes.md' }, v1: first.events[0]?.event.data as { versionId: string } };
    };

    it('answers a stale base version with version_conflict carrying the latest version, and appends nothing', async () => {
      const { ws, c, file, v1 } = await setup();
      const v2 = right(await handle(c.commitEdit(file, v1.versionId, [chunkOf('v2')])));
      const stale = await handle(c.commitEdit(file, v1.versionId, [chunkOf('v3')]));
      expect(E.isLeft(stale) && stale.left.code).toBe('version_conflict');
      expect(E.isLeft(stale) && stale.left.code === 'version_conflict' && stale.left.details.latestVersionId).toBe((v2.events[0]?.event.data as { versionId: string }).versionId);
      expect(await streamEvents(db, ws)).toHaveLength(3);
    });

    it('returns the first answer for a repeated idempotency key and appends nothing more', async () => {
      const { ws, c } = await setup();
      const command = c.commitNew('root', 'once.txt', [chunkOf('once')], 'f-once', { idempotencyKey: 'k-1' });
      const first = right(await handle(command));
      const again = right(await handle(command));
      const concurrent = await Promise.all([handle(command), handle(command)]);
      expect(again.replayed).toBe(true);
      expect(again.cursor).toBe(first.cursor);
      expect(again.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
      for (const r of concurrent) expect(right(r).events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
      expect(await streamEvents(db, ws)).toHaveLength(3);
    });

    it('serializes many concurrent writers on one workspace into a contiguous stream, none lost', async () => {
      const { ws, c } = await setup();
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => handle(c.commitNew('root', `f${i}.bin`, [chunkOf(`c${i}`)]))));
      const cursors = results.map((r) => right(r).cursor).sort((a, b) => a - b);
      expect(cursors).toEqual(Array.from({ length: 30 }, (_, i) => i + 3));
      expect(await streamEvents(db, ws)).toHaveLength(32);
    });

    it('answers a domain error without touching the log or the projection', async () => {
      const { ws, c } = await setup();
      const counter = createDatabaseCounter(db.pool);
      const before = await counter.snapshot();
      const clash = await handle(c.commitNew('root', 'NOTES.md', [chunkOf('x')]));
      expect(E.isLeft(clash) && clash.left.code).toBe('name_conflict');
      expect(await counter.snapshot()).toEqual(before);
      expect(await streamEvents(db, ws)).toHaveLength(2);
    });
  });
});

describe('handling a batch of commands on one workspace', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  const setup = async () => {
    const { createBatchHandler } = await import('../../src/commands/handle.js');
    const { createPostgresWorkspaceStore } = await import('../../src/commands/postgres/workspaceStore.js');
    const batch = createBatchHandler({ store: createPostgresWorkspaceStore(db.pool), newEventId: () => crypto.randomUUID() });
    const ws = newWorkspaceId();
    const c = commandsFor(ws);
    right(await batch(ws, [c.createWorkspace()]));
    return { ws, c, batch };
  };

  it('decides each command on the state the previous ones left, and appends them together', async () => {
    const { ws, c, batch } = await setup();
    const result = right(await batch(ws, [c.createFolder('root', 'A', 'a'), c.createFolder('a', 'B', 'b'), c.move('b', 'root', 'B')]));
    expect(result.events.map((e) => e.event.type)).toEqual(['FolderCreated', 'FolderCreated', 'NodeMoved']);
    expect(result.cursor).toBe(4);
  });

  it('appends nothing when any command is refused', async () => {
    const { ws, c, batch } = await setup();
    const result = await batch(ws, [c.createFolder('root', 'A', 'a'), c.createFolder('root', 'a', 'a2')]);
    expect(E.isLeft(result) && result.left.code).toBe('name_conflict');
    expect(await streamEvents(db, ws)).toHaveLength(1);
  });

  it('returns its first answer when repeated with the same idempotency key', async () => {
    const { ws, c, batch } = await setup();
    const first = c.createFolder('root', 'K', 'k');
    const keyed = { ...first, metadata: { ...first.metadata, idempotencyKey: 'batch-1' } };
    const once = right(await batch(ws, [keyed, c.createFolder('k', 'L', 'l')]));
    const again = right(await batch(ws, [keyed, c.createFolder('k', 'L', 'l')]));
    expect(again.replayed).toBe(true);
    expect(again.events.map((e) => e.eventId)).toEqual(once.events.map((e) => e.eventId));
    expect(again.cursor).toBe(once.cursor);
    expect(await streamEvents(db, ws)).toHaveLength(3);
  });
});
