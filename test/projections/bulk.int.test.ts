import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HandleCommand } from '../../src/commands/handle.js';
import { decide } from '../../src/domain/workspace/decide.js';
import { evolve } from '../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../src/domain/workspace/state.js';
import { createBareShadow } from '../../src/projections/admin/shadow.js';
import { bulkBuildTree } from '../../src/projections/bulk/build.js';
import { compareProjectionTables } from '../../src/projections/rebuild.js';
import { treeProjection } from '../../src/projections/registry.js';
import { EventDecodeError } from '../../src/storage/eventlog/errors.js';
import type { TestDatabase } from '../support/db.js';
import { chunkOf, commandsFor, interpret, recipeArb } from '../support/workspaceCommands.js';
import { newWorkspaceId, useWorkspaceDatabase } from '../support/workspaceHarness.js';

describe('the bulk rebuild of the tree projection', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  useWorkspaceDatabase((d, h) => ([db, handle] = [d, h]));

  // Tiny pages split streams over several batches (and so over the workers' hand-offs), tiny
  // flushes cut the rows into many COPY chunks.
  const bulkEqualsLive = async (workers = 2) => {
    await createBareShadow(db.pool, treeProjection, 'rm', 'rm_bulk');
    const built = await bulkBuildTree(db.pool, 'rm_bulk', { pageSize: 7, flushBytes: 2000, workers });
    expect(await compareProjectionTables(db.pool, treeProjection, 'rm', 'rm_bulk')).toEqual([]);
    return built;
  };

  it('folds every workspace to exactly the rows the inline projection wrote, for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1500, 10 ** 10), fc.array(recipeArb, { minLength: 5, maxLength: 40 }), async (quota, recipes) => {
        const ws = newWorkspaceId();
        const c = commandsFor(ws);
        let folded: WorkspaceState = initialState();
        for (const command of [c.createWorkspace('root', quota), ...recipes]) {
          const cmd = 'op' in command ? interpret(c, folded, command) : command;
          if (cmd === null) continue;
          const expected = decide(cmd, folded);
          await handle(cmd);
          if (E.isRight(expected)) for (const e of expected.right) folded = evolve(folded, e);
        }
        await bulkEqualsLive();
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 20) },
    );
  });

  describe('a deep tree deleted, restored elsewhere and purged, with shared chunks', () => {
    it('keeps trash paths, used bytes and chunk references identical', async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      for (const cmd of [
        c.createWorkspace(),
        c.createFolder('root', 'A', 'a'),
        c.createFolder('a', 'B \\ back', 'b'),
        c.commitNew('b', 'x.bin', [chunkOf('s', 10), chunkOf('s', 10), chunkOf('t', 5)], 'fx'),
        c.commitNew('a', 'y.bin', [chunkOf('s', 10)], 'fy'),
        c.remove('b'),
        c.undelete('b', 'root', 'B2'),
        c.move('fy', 'b', 'y2.bin'),
        c.remove('a'),
        c.remove('b'),
        c.purge('b'),
        c.purge('a'),
      ])
        expect(E.isRight(await handle(cmd))).toBe(true);
      const inWorkers = await bulkEqualsLive(2);
      expect(inWorkers.workspaces).toBeGreaterThan(0);
      // The same rows when this thread folds.
      expect(await bulkEqualsLive(0)).toEqual(inWorkers);
    });
  });

  it('writes names of any script, backslashes and COPY-text look-alikes byte for byte', async () => {
    const ws = newWorkspaceId();
    const c = commandsFor(ws);
    for (const cmd of [
      c.createWorkspace(),
      c.createFolder('root', 'Zoë — 日本語 📁', 'u'),
      c.commitNew('u', 'back\\slash and \\N.txt', [chunkOf('u', 3)], 'fu1'),
      c.commitNew('u', 'a-name-longer-than-twenty-four-characters-é.bin', [chunkOf('v', 3)], 'fu2'),
      c.remove('fu1'),
    ])
      expect(E.isRight(await handle(cmd))).toBe(true);
    await bulkEqualsLive(2);
    await bulkEqualsLive(0);
  });

  it('stops at an event the codecs refuse, naming it, whichever thread folds it', async () => {
    const ws = newWorkspaceId();
    const c = commandsFor(ws);
    for (const cmd of [c.createWorkspace(), c.createFolder('root', 'A', 'a'), c.createFolder('a', 'B', 'b')]) expect(E.isRight(await handle(cmd))).toBe(true);
    const stream = `workspace-${ws}`;
    await db.pool.query(`UPDATE es_events SET data = data - 'name' WHERE stream_id = $1 AND stream_version = 3`, [stream]);
    try {
      for (const workers of [0, 2]) {
        await createBareShadow(db.pool, treeProjection, 'rm', 'rm_bulk');
        const failed = await bulkBuildTree(db.pool, 'rm_bulk', { pageSize: 7, workers }).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(EventDecodeError);
        expect(failed).toMatchObject({ streamId: stream, version: 3 });
      }
    } finally {
      await db.pool.query(`UPDATE es_events SET data = data || '{"name": "B"}' WHERE stream_id = $1 AND stream_version = 3`, [stream]);
    }
    // No transaction left open on a pooled connection, nothing left behind: the next build works.
    await bulkEqualsLive(2);
  });
});
