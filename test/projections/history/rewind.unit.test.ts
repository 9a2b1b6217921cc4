import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IsoTimestamp, UserId, VersionId, WorkspaceId } from '../../../src/domain/ids.js';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import { decide } from '../../../src/domain/workspace/decide.js';
import { evolve } from '../../../src/domain/workspace/evolve.js';
import { isLive, type WorkspaceState } from '../../../src/domain/workspace/state.js';
import { isLiveNode, type TreeFold } from '../../../src/projections/history/fold.js';
import { planRewind, RewindError, type RewindPlan } from '../../../src/projections/history/rewind.js';
import { treeThenAndNow } from '../../../src/projections/history/treeAt.js';
import { WORKSPACE, builtThenChangedArb, historyArb, historyOf, stored, type History } from './history.js';

const NOW = '2030-01-01T00:00:00.000Z' as IsoTimestamp;

/** Runs a plan's commands through the domain one after the other, as the batch handler does; the first refusal fails. */
const execute = (state: WorkspaceState, plan: RewindPlan): WorkspaceState => {
  let s = state;
  for (const [i, planned] of plan.commands.entries()) {
    const command = { ...planned, workspaceId: WORKSPACE as WorkspaceId, metadata: { now: NOW, userId: 'u1' as UserId } } as WorkspaceCommand;
    const decision = decide(command, s);
    if (E.isLeft(decision)) throw new Error(`command ${i} (${command.type} ${JSON.stringify(command.data)}) refused: ${decision.left.code}`);
    for (const e of decision.right) s = evolve(s, e);
  }
  return s;
};

/** What the subtree of folderId looks like: place, kind and content of every live node, keyed by id. */
const shapeOf = (tree: TreeFold, folderId: string) =>
  Object.fromEntries(
    tree.liveSubtree(folderId).map((n) => [
      n.nodeId,
      { parentId: n.parentId, name: n.name, kind: n.kind, content: n.latestVersionId === null ? null : n.versions.get(n.latestVersionId)?.contentHash },
    ]),
  );

describe('a rewind plan', () => {
  /** Plans the rewind of a folder, runs it through the domain and holds the result to the folder as it was. */
  const checkRewind = async ({ events, states }: History, cut: number, folderPick: number): Promise<RewindPlan | null> => {
    const at = new Date(events[Math.min(cut, events.length - 1)]?.metadata.at ?? '');
    const { then, now } = await treeThenAndNow(events, at);
    const folders = [...then.nodes.values()].filter((n) => n.kind === 'folder' && isLiveNode(n));
    const folder = folders[folderPick % folders.length];
    if (folder === undefined) return null;
    let ids = 0;
    let plan: RewindPlan;
    try {
      plan = planRewind(then, now, folder.nodeId, { newVersionId: () => `rv${++ids}` as VersionId, now: NOW });
    } catch (e) {
      // Only a folder whose place is gone, or inside it now, cannot be rewound (a folder higher up can).
      expect(e instanceof RewindError && ['parent_gone', 'parent_inside'].includes(e.reason)).toBe(true);
      return null;
    }
    const after = execute(states[states.length - 1] as WorkspaceState, plan);
    // The planner's own model of the result is the domain's.
    expect(now.toWorkspaceState()).toEqual(after);
    const lost = new Set<string>(plan.changes.filter((c) => c.action === 'unrecoverable').map((c) => c.nodeId));
    const expected = shapeOf(then, folder.nodeId);
    const actual = shapeOf(now, folder.nodeId);
    // What was inside a node that cannot come back stays with that node, wherever it is.
    const reachable = (id: string): boolean => !lost.has(id) && (id === folder.nodeId || reachable(then.node(id)?.parentId ?? folder.nodeId));
    for (const [id, was] of Object.entries(expected)) if (reachable(id)) expect(actual[id], `node ${id}`).toEqual(was);
    for (const id of Object.keys(actual)) if (!(id in expected)) expect(lost.size, `extra node ${id} still in the folder`).toBeGreaterThan(0);
    if (after.status === 'open' && !lost.has(folder.nodeId)) expect(isLive(after.nodes.get(folder.nodeId) as never)).toBe(true);
    return plan;
  };

  it('runs as a valid batch and leaves the folder as it was then, for random histories, folders and moments', async () => {
    let planned = 0;
    await fc.assert(
      fc.asyncProperty(historyArb(60), fc.nat(), fc.nat(), async (history, cut, folderPick) => {
        if ((await checkRewind(history, cut % history.events.length, folderPick)) !== null) planned++;
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    );
    expect(planned).toBeGreaterThan(100);
  }, 120_000);

  it('does so after a tree was built and then heavily worked on (swaps, nesting, trash in trash)', async () => {
    let commands = 0;
    await fc.assert(
      fc.asyncProperty(builtThenChangedArb, fc.nat(10), fc.nat(), async (history, back, folderPick) => {
        // The moment: around the end of the building phase (event 1 is the workspace's creation).
        const plan = await checkRewind(history, Math.max(0, history.built - back), folderPick);
        commands += plan?.commands.length ?? 0;
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    );
    expect(commands).toBeGreaterThan(300);
  }, 120_000);

  it('swaps two names back, brings a file out of a deleted folder, and trashes what was created since', async () => {
    const { c, events } = historyOf([]);
    const steps = [
      c.createFolder('root', 'A', 'A'),
      c.commitNew('A', 'x.txt', [{ hash: 'a'.repeat(64), size: 1 } as never], 'x'),
      c.commitNew('A', 'y.txt', [{ hash: 'b'.repeat(64), size: 1 } as never], 'y'),
    ];
    const later = [
      c.move('x', 'A', 'tmp.txt'),
      c.move('y', 'A', 'x.txt'),
      c.move('x', 'A', 'y.txt'),
      c.createFolder('A', 'New', 'N'),
      c.move('y', 'N', 'x.txt'),
      c.remove('N'),
      c.commitNew('A', 'x.txt', [{ hash: 'c'.repeat(64), size: 1 } as never], 'z'),
    ];
    let state = (await treeThenAndNow(events, new Date(NOW))).now.toWorkspaceState();
    let cutAt = '';
    for (const [i, command] of [...steps, ...later].entries()) {
      const decision = decide(command, state);
      if (E.isLeft(decision)) throw new Error(`${command.type}: ${decision.left.code}`);
      for (const e of stored(decision.right, command, events.length)) {
        events.push(e);
        state = evolve(state, e.event);
      }
      if (i === steps.length - 1) cutAt = command.metadata.now;
    }
    const { then, now } = await treeThenAndNow(events, new Date(cutAt));
    const plan = planRewind(then, now, 'A' as never, { newVersionId: () => 'rv' as VersionId, now: NOW });
    execute(state, plan);
    expect(shapeOf(now, 'A')).toEqual(shapeOf(then, 'A'));
    expect(plan.changes.map((ch) => ch.action).sort()).toEqual(expect.arrayContaining(['trash', 'undelete', 'move']));
  });
});
