import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEachHandler, type EachOutcome, type HandleEach } from '../../src/commands/each.js';
import type { CommandResult, HandleCommand } from '../../src/commands/handle.js';
import { createPostgresWorkspaceStore } from '../../src/commands/postgres/workspaceStore.js';
import type { WorkspaceCommand } from '../../src/domain/workspace/commands.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { foldedView, projectionView } from '../support/projectionView.js';
import { chunkOf, commandsFor } from '../support/workspaceCommands.js';
import { foldedState, handlerFor, newWorkspaceId, streamEvents } from '../support/workspaceHarness.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected success, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const codeOf = (o: EachOutcome | undefined): string => (o === undefined ? 'none' : E.isLeft(o) ? o.left.code : 'ok');
const keyed = (command: WorkspaceCommand, key: string): WorkspaceCommand => ({ ...command, metadata: { ...command.metadata, idempotencyKey: key } });

describe('many independent commands of one workspace in one unit of work', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  let each: HandleEach;
  const committed: { workspaceId: string; result: CommandResult }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    handle = handlerFor(db);
    each = createEachHandler({
      store: createPostgresWorkspaceStore(db.pool),
      newEventId: () => crypto.randomUUID(),
      onCommitted: (workspaceId, result) => committed.push({ workspaceId, result }),
    });
  });
  afterAll(async () => db.drop());

  const given = async () => {
    const ws = newWorkspaceId();
    const c = commandsFor(ws);
    right(await handle(c.createWorkspace('root', 10_000)));
    right(await handle(c.createFolder('root', 'Docs', 'docs')));
    return { ws, c };
  };

  it('appends the accepted commands together, each answered with the cursor of its own event', async () => {
    const { ws, c } = await given();
    committed.length = 0;
    const outcomes = right(await each(ws, [c.commitNew('docs', 'a.txt', [chunkOf('a')], 'fa'), c.commitNew('docs', 'b.txt', [chunkOf('b')], 'fb'), c.commitNew('root', 'c.txt', [chunkOf('c')], 'fc')]));
    expect(outcomes.map((o) => right(o).cursor)).toEqual([3, 4, 5]);
    expect(outcomes.map((o) => right(o).events.map((e) => e.version))).toEqual([[3], [4], [5]]);
    // One transaction: the three events share its transaction id.
    const { rows } = await db.pool.query<{ txs: string }>("SELECT count(DISTINCT tx_id)::text AS txs FROM es_events WHERE stream_id = $1 AND stream_version >= 3", [`workspace-${ws}`]);
    expect(rows[0]?.txs).toBe('1');
    // Listeners hear of the batch once, after it is durable, with all its events.
    expect(committed).toHaveLength(1);
    expect(committed[0]?.result.cursor).toBe(5);
    expect(committed[0]?.result.events.map((e) => e.version)).toEqual([3, 4, 5]);
    expect(await projectionView(db, ws)).toEqual(foldedView(await foldedState(db, ws)));
  });

  it('refuses a command on its own: the others still go through', async () => {
    const { ws, c } = await given();
    const first = right(await handle(c.commitNew('docs', 'report.txt', [chunkOf('r1')], 'fr')));
    const staleBase = c.commitEdit({ fileId: 'fr', parentId: 'docs', name: 'report.txt' }, 'v-not-latest', [chunkOf('r2')]);
    const outcomes = right(
      await each(ws, [
        c.commitNew('docs', 'ok1.txt', [chunkOf('o1')], 'o1'),
        staleBase,
        c.commitNew('nowhere', 'lost.txt', [chunkOf('l')], 'fl'),
        c.commitNew('docs', 'ok2.txt', [chunkOf('o2')], 'o2'),
      ]),
    );
    expect(outcomes.map(codeOf)).toEqual(['ok', 'version_conflict', 'not_found', 'ok']);
    const conflict = outcomes[1] as E.Left<{ details: Record<string, unknown> }>;
    expect(conflict.left.details.latestVersionId).toBe(first.events[0]?.event.type === 'FileVersionCommitted' ? first.events[0].event.data.versionId : 'never');
    expect((await streamEvents(db, ws)).slice(-2).map((e) => (e.type === 'FileVersionCommitted' ? e.data.name : e.type))).toEqual(['ok1.txt', 'ok2.txt']);
    expect(await projectionView(db, ws)).toEqual(foldedView(await foldedState(db, ws)));
  });

  it('decides each command against the state the earlier ones left: a second file of one name is a name conflict', async () => {
    const { ws, c } = await given();
    const outcomes = right(await each(ws, [c.commitNew('docs', 'Same.txt', [chunkOf('s1')], 's1'), c.commitNew('docs', 'same.TXT', [chunkOf('s2')], 's2')]));
    expect(outcomes.map(codeOf)).toEqual(['ok', 'name_conflict']);
  });

  it('looks for name conflicts in each file\'s own folder only, however many folders and names the batch spans', async () => {
    const { ws, c } = await given();
    right(await handle(c.createFolder('root', 'Pics', 'pics')));
    right(await handle(c.commitNew('docs', 'a.txt', [chunkOf('a0')], 'a0')));
    right(await handle(c.commitNew('pics', 'b.txt', [chunkOf('b0')], 'b0')));
    // docs holds a.txt and pics holds b.txt: each name collides in its own folder, not in the other.
    const outcomes = right(
      await each(ws, [
        c.commitNew('pics', 'A.TXT', [chunkOf('a1')], 'a1'),
        c.commitNew('docs', 'B.txt', [chunkOf('b1')], 'b1'),
        c.commitNew('docs', 'a.txt', [chunkOf('a2')], 'a2'),
        c.commitNew('pics', 'b.TXT', [chunkOf('b2')], 'b2'),
        c.commitNew('root', 'a.txt', [chunkOf('a3')], 'a3'),
      ]),
    );
    expect(outcomes.map(codeOf)).toEqual(['ok', 'ok', 'name_conflict', 'name_conflict', 'ok']);
    expect(await projectionView(db, ws)).toEqual(foldedView(await foldedState(db, ws)));
  });

  it('counts the quota across the batch: the commit that would pass it is refused, the rest fit', async () => {
    const { ws, c } = await given();
    const outcomes = right(
      await each(ws, [c.commitNew('docs', 'q1', [chunkOf('q1', 6000)], 'q1'), c.commitNew('docs', 'q2', [chunkOf('q2', 6000)], 'q2'), c.commitNew('docs', 'q3', [chunkOf('q3', 4000)], 'q3')]),
    );
    expect(outcomes.map(codeOf)).toEqual(['ok', 'quota_exceeded', 'ok']);
  });

  it('answers a repeated idempotency key with the first answer and appends nothing, within a batch and across batches', async () => {
    const { ws, c } = await given();
    const a = keyed(c.commitNew('docs', 'k1.txt', [chunkOf('k1')], 'k1'), 'key-1');
    const b = keyed(c.commitNew('docs', 'k2.txt', [chunkOf('k2')], 'k2'), 'key-2');
    const first = right(await each(ws, [a, b, keyed(c.commitNew('docs', 'other.txt', [chunkOf('x')], 'kx'), 'key-1')]));
    expect(first.map((o) => right(o).replayed)).toEqual([false, false, true]);
    expect(right(first[2] as EachOutcome).cursor).toBe(right(first[0] as EachOutcome).cursor);
    const before = (await streamEvents(db, ws)).length;
    const again = right(await each(ws, [b, a]));
    expect(again.map((o) => right(o).replayed)).toEqual([true, true]);
    expect(again.map((o) => right(o).cursor)).toEqual([right(first[1] as EachOutcome).cursor, right(first[0] as EachOutcome).cursor]);
    expect(right(again[0] as EachOutcome).events.map((e) => e.eventId)).toEqual(right(first[1] as EachOutcome).events.map((e) => e.eventId));
    // The single-command handler shares the key space.
    expect(right(await handle(a)).replayed).toBe(true);
    expect((await streamEvents(db, ws)).length).toBe(before);
  });

  it('keeps every batch whole when many race on one workspace: no event lost, none twice', async () => {
    const { ws, c } = await given();
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 10 }, (_, i) => c.commitNew('docs', `r${b}-${i}`, [chunkOf(`r${b}-${i}`, 10)], `r${b}-${i}`)));
    const results = await Promise.all(batches.map((batch) => each(ws, batch)));
    const cursors = results.flatMap((r) => right(r).map((o) => right(o).cursor)).sort((x, y) => x - y);
    expect(cursors).toEqual(Array.from({ length: 60 }, (_, i) => 3 + i));
    expect(await projectionView(db, ws)).toEqual(foldedView(await foldedState(db, ws)));
  });

  it('refuses a batch with a command that cannot be loaded with others, before touching anything', async () => {
    const { ws, c } = await given();
    await expect(each(ws, [c.commitNew('docs', 'm.txt', [chunkOf('m')], 'fm'), c.move('fm', 'root', 'm.txt')])).rejects.toThrow(/cannot be loaded/);
    expect((await streamEvents(db, ws)).length).toBe(2);
  });
});
