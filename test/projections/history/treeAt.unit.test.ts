import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { treeAt, treeThenAndNow } from '../../../src/projections/history/treeAt.js';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import type { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import type { StoredEvent } from '../../../src/storage/eventlog/types.js';
import { chunkOf, commandsFor } from '../../support/workspaceCommands.js';
import { historyArb, stored } from './history.js';

const moment = (iso: string) => new Date(iso);

describe('a workspace folded at a moment', () => {
  it('equals the domain fold of the events recorded up to that moment, for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb(60), fc.nat(), async ({ events, states }, pick) => {
        const k = pick % (events.length + 1);
        // Up to and including the k-th event: its time is the moment (each command ticks the clock).
        const at = k === 0 ? moment('2000-01-01T00:00:00.000Z') : moment(events[k - 1]?.metadata.at ?? '');
        const tree = await treeAt(events, at);
        expect(tree.toWorkspaceState()).toEqual(states[k]);
        expect(tree.cursor).toBe(k);
        const whole = await treeAt(events, moment('2100-01-01T00:00:00.000Z'));
        expect(whole.toWorkspaceState()).toEqual(states[states.length - 1]);
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 150) },
    );
  });

  it('reads an async stream and stops at the first event recorded after the moment', async () => {
    const { events } = (await fc.sample(historyArb(20), { numRuns: 1, seed: 7 }))[0] ?? { events: [] };
    let read = 0;
    async function* slowly() {
      for (const e of events) {
        read++;
        yield e;
      }
    }
    const at = moment(events[1]?.metadata.at ?? '');
    const tree = await treeAt(slowly(), at);
    expect(tree.cursor).toBe(2);
    expect(read).toBe(Math.min(3, events.length));
    const { then, now } = await treeThenAndNow(events, at);
    expect(then.toWorkspaceState()).toEqual(tree.toWorkspaceState());
    expect(now.cursor).toBe(events.length);
  });

  it('stays fast on a long history (no copy of every node per event)', async () => {
    const events = longHistory(10_000, 5_000);
    const started = performance.now();
    const tree = await treeAt(events, moment('2100-01-01T00:00:00.000Z'));
    // The domain's fold copies every node per event: minutes for this history. Linear, it is well under a second.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(tree.lookup(['moved4999', 'f'])?.nodeId).toBe('f4999');
    expect(tree.liveChildren('root')).toHaveLength(10_000);
  });
});

/** folders d0..d(n-1) at the root, each holding a file f, then the first `moves` folders renamed: events built directly. */
const longHistory = (folders: number, moves: number): StoredEvent<WorkspaceEvent>[] => {
  const c = commandsFor('big');
  const out: StoredEvent<WorkspaceEvent>[] = [];
  const add = (command: WorkspaceCommand, event: WorkspaceEvent) => out.push(...stored([event], command, out.length));
  const create = c.createWorkspace();
  if (create.type === 'CreateWorkspace') add(create, { type: 'WorkspaceCreated', data: { workspaceId: create.workspaceId, ...create.data } });
  for (let i = 0; i < folders; i++) {
    const folder = c.createFolder('root', `d${i}`, `d${i}`);
    if (folder.type === 'CreateFolder') add(folder, { type: 'FolderCreated', data: folder.data });
    const file = c.commitNew(`d${i}`, 'f', [chunkOf(`${i}`)], `f${i}`);
    if (file.type === 'CommitFileVersion') {
      const { fileId, parentId, name, versionId, size, contentHash, chunks } = file.data;
      add(file, { type: 'FileVersionCommitted', data: { nodeId: fileId, parentId, name, versionId, size, contentHash, chunks, modifiedAt: file.metadata.now, baseVersionId: null, created: true } });
    }
  }
  for (let i = 0; i < moves; i++) {
    const move = c.move(`d${i}`, 'root', `moved${i}`);
    if (move.type === 'MoveNode') add(move, { type: 'NodeMoved', data: { ...move.data, kind: 'folder', fromParentId: move.data.parentId, fromName: `d${i}` } });
  }
  return out;
};
