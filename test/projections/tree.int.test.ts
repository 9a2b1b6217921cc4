import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HandleCommand } from '../../src/commands/handle.js';
import { decide } from '../../src/domain/workspace/decide.js';
import { evolve } from '../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../src/domain/workspace/state.js';
import type { WorkspaceCommand } from '../../src/domain/workspace/commands.js';
import { loadDecisionState } from '../../src/projections/tree/decisionState.js';
import { compareProjectionTables, createShadowTables, replayInto } from '../../src/projections/rebuild.js';
import { treeProjection } from '../../src/projections/registry.js';
import { workspaceStreamId } from '../../src/storage/eventlog/workspaceSchema.js';
import type { TestDatabase } from '../support/db.js';
import { foldedView, projectionView } from '../support/projectionView.js';
import { chunkOf, commandsFor, interpret, recipeArb } from '../support/workspaceCommands.js';
import { newWorkspaceId, useWorkspaceDatabase } from '../support/workspaceHarness.js';

const decideOnLoadedState = async (db: TestDatabase, command: WorkspaceCommand) => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const { state } = await loadDecisionState(client, 'rm', workspaceStreamId(command.workspaceId), command);
    return decide(command, state);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
};

describe('the tree projection', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  useWorkspaceDatabase((d, h) => ([db, handle] = [d, h]));

  it('decides like the folded stream, equals the fold, and rebuilds from the log to identical tables, for random histories', async () => {
    await fc.assert(
      // Tight quotas in some runs, so quota decisions (commits, restores, undeletes) are compared too.
      fc.asyncProperty(fc.constantFrom(1500, 2500, 10 ** 10), fc.array(recipeArb, { minLength: 5, maxLength: 35 }), async (quota, recipes) => {
        const ws = newWorkspaceId();
        const c = commandsFor(ws);
        let folded: WorkspaceState = initialState();
        for (const command of [c.createWorkspace('root', quota), ...recipes]) {
          const cmd = 'op' in command ? interpret(c, folded, command) : command;
          if (cmd === null) continue;
          const expected = decide(cmd, folded);
          // The state loaded for this command from the projection decides exactly like the whole fold.
          expect(await decideOnLoadedState(db, cmd)).toEqual(expected);
          const result = await handle(cmd);
          if (E.isLeft(expected)) {
            expect(E.isLeft(result) && result.left.code).toBe(expected.left.code);
          } else {
            expect(E.isRight(result) && result.right.events.map((e) => e.event)).toEqual(expected.right);
            for (const e of expected.right) folded = evolve(folded, e);
          }
        }
        expect(await projectionView(db, ws)).toEqual(foldedView(folded));
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 40) },
    );
    await createShadowTables(db.pool, treeProjection, 'rm', 'rm_rebuilt');
    const replayed = await replayInto(db.pool, treeProjection, 'rm_rebuilt');
    expect(replayed.events).toBeGreaterThan(25);
    expect(await compareProjectionTables(db.pool, treeProjection, 'rm', 'rm_rebuilt')).toEqual([]);
    // Seconds on a quiet machine; a machine busy with other suites can take many times that.
  }, 300_000);

  describe('a rebuild while a transaction elsewhere holds events back', () => {
    it('waits for them instead of stopping short of the log head', async () => {
      // An open transaction with an id keeps xmin behind everything committed after it began.
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      for (const cmd of [c.createWorkspace(), c.createFolder('root', 'Held', 'held'), c.commitNew('held', 'x.bin', [chunkOf('held-x')], 'fx')])
        expect(E.isRight(await handle(cmd))).toBe(true);
      await createShadowTables(db.pool, treeProjection, 'rm', 'rm_held');
      const replay = replayInto(db.pool, treeProjection, 'rm_held');
      await new Promise((r) => setTimeout(r, 300));
      await holder.query('COMMIT');
      holder.release();
      await replay;
      expect(await compareProjectionTables(db.pool, treeProjection, 'rm', 'rm_held')).toEqual([]);
    }, 120_000);
  });

  describe('a folder holding files that is deleted and purged', () => {
    it('lists the folder in the trash with its path, frees its bytes, and drops chunk refs only when no version uses them', async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      for (const cmd of [
        c.createWorkspace(),
        c.createFolder('root', 'Projects', 'projects'),
        c.createFolder('projects', 'Old', 'old'),
        c.commitNew('old', 'a.bin', [chunkOf('shared', 100), chunkOf('only-a', 50)], 'fa'),
        c.commitNew('root', 'keep.bin', [chunkOf('shared', 100)], 'fk'),
      ])
        expect(E.isRight(await handle(cmd))).toBe(true);
      const used = async () => Number((await db.pool.query('SELECT used_bytes FROM rm.workspaces WHERE workspace_id = $1', [ws])).rows[0]?.used_bytes);
      const refs = async () =>
        Object.fromEntries((await db.pool.query('SELECT hash, refs FROM rm.chunk_refs WHERE workspace_id = $1', [ws])).rows.map((r) => [r.hash, r.refs]));
      expect(await used()).toBe(250);
      expect(E.isRight(await handle(c.remove('old')))).toBe(true);
      const trash = await db.pool.query('SELECT node_id, kind, path FROM rm.trash WHERE workspace_id = $1', [ws]);
      expect(trash.rows).toEqual([{ node_id: 'old', kind: 'folder', path: '/Projects/Old' }]);
      expect(await used()).toBe(100);
      expect(await refs()).toEqual({ [chunkOf('shared').hash]: 2, [chunkOf('only-a').hash]: 1 });
      expect(E.isRight(await handle(c.purge('old')))).toBe(true);
      expect(await refs()).toEqual({ [chunkOf('shared').hash]: 1 });
      expect((await db.pool.query('SELECT count(*)::int AS n FROM rm.trash WHERE workspace_id = $1', [ws])).rows[0]?.n).toBe(0);
      const purged = await db.pool.query('SELECT purged_at IS NOT NULL AS purged FROM rm.versions WHERE workspace_id = $1 AND node_id = $2', [ws, 'fa']);
      expect(purged.rows).toEqual([{ purged: true }]);
    });
  });
});
