import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { NodeId, VersionId } from '../../../src/domain/ids.js';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import { decide } from '../../../src/domain/workspace/decide.js';
import { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import { evolve } from '../../../src/domain/workspace/evolve.js';
import { invariantViolations } from '../../../src/domain/workspace/invariants.js';
import { initialState, isLive, type NodeView, type OpenWorkspace, type WorkspaceState } from '../../../src/domain/workspace/state.js';
import { command, content, n, ROOT, v } from '../../support/spec.js';

/**
 * One step of a random session, as choices rather than a command: the command is built against
 * the state the step meets, so most steps name nodes and versions that exist and many succeed.
 */
interface Step {
  readonly kind: (typeof kinds)[number];
  readonly pick: number;
  readonly other: number;
  readonly name: number;
  readonly flags: number;
  readonly sizes: readonly number[];
}

const kinds = [
  'createWorkspace',
  'createFolder', 'createFolder', 'createFolder',
  'commitNewFile', 'commitNewFile', 'commitNewFile',
  'commitVersion', 'commitVersion',
  'move', 'move', 'move',
  'delete', 'delete',
  'undelete', 'undelete',
  'restoreVersion',
  'purgeNode',
  'purgeVersions',
] as const;

// Few names, so siblings collide: case, NFC/NFD and ß/SS twins, numbered names that undelete
// also produces, 255-byte names that a numbered copy must not lengthen, and some invalid ones.
const names = [
  'a', 'A', 'b.txt', 'B.TXT', 'b (1).txt', 'caf\u00e9', 'cafe\u0301', 'straße', 'STRASSE', 'notes',
  `${'x'.repeat(251)}.txt`, 'y'.repeat(255), `${'😀'.repeat(63)}.z`, '', 'a/b', '..', 'bell\u0007',
];

const QUOTA = 30;

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...kinds),
  pick: fc.nat(1000),
  other: fc.nat(1000),
  name: fc.nat(names.length - 1),
  flags: fc.nat(255),
  sizes: fc.array(fc.nat(9), { maxLength: 3 }),
});

const at = <T,>(list: readonly T[], i: number): T | undefined => list[i % Math.max(list.length, 1)];
const UNKNOWN = n('unknown');

/** The ids and places a step can aim at, biased towards those that make a command succeed. */
const targets = (ws: OpenWorkspace) => {
  const all = [...ws.nodes.values()];
  const live = all.filter(isLive);
  const movable = live.filter((x) => x.nodeId !== ws.rootId);
  const folders = live.filter((x) => x.kind === 'folder');
  const files = all.filter((x) => x.kind === 'file');
  const trashRoots = all.filter((x) => x.trashedBy === x.nodeId && !x.purged);
  const id = (x: NodeView | undefined): NodeId => x?.nodeId ?? UNKNOWN;
  const rarely = (i: number, usual: NodeId): NodeId => (i % 16 === 0 ? id(at(all, i >> 4)) : i % 16 === 1 ? ROOT : i % 16 === 2 ? UNKNOWN : usual);
  return {
    /** Mostly a live node other than the root; sometimes any node, the root or an unknown id. */
    node: (i: number): NodeId => rarely(i, id(at(movable, i) ?? at(all, i))),
    /** Mostly a live folder; sometimes a file, a trashed folder or an unknown id. */
    folder: (i: number): NodeId => rarely(i, id(at(folders, i))),
    /** Mostly a live file; sometimes a trashed or purged one, or a folder. */
    file: (i: number): NodeView | undefined => (i % 6 === 0 ? at(all, i) : at(i % 6 === 1 ? files : files.filter(isLive), i)),
    /** Mostly a node in the trash; sometimes any node. */
    trashRoot: (i: number): NodeId => rarely(i, id(at(trashRoots, i) ?? at(all, i))),
  };
};

const versionsOf = (file: NodeView | undefined): VersionId[] => [...(file?.versions.keys() ?? [])];

/** Builds the command a step means in state ws; fresh ids come from the step's index. */
const commandFor = (s: Step, ws: WorkspaceState, index: number): WorkspaceCommand => {
  if (s.kind === 'createWorkspace' || ws.status !== 'open') return command.createWorkspace(QUOTA);
  const t = targets(ws);
  const fresh = s.flags % 11 === 0 ? t.node(s.other) : n(`s${index}`);
  const name = names[s.name] as string;
  const sizes = s.flags % 13 === 0 ? [...s.sizes, 0] : s.sizes.filter((x) => x > 0);
  const bytes = content(`c${index}`, ...sizes);
  const declared = s.flags % 17 === 0 ? { ...bytes, size: bytes.size + 1 } : bytes;
  switch (s.kind) {
    case 'createFolder':
      return command.createFolder(fresh, name, t.folder(s.pick));
    case 'commitNewFile':
      return command.commitNewFile({ fileId: fresh, versionId: v(`s${index}`), name, parentId: t.folder(s.pick), content: declared });
    case 'commitVersion': {
      const file = t.file(s.pick);
      const base = s.flags % 5 === 0 ? (at(versionsOf(file), s.other) ?? null) : s.flags % 5 === 1 ? null : (file?.latestVersionId ?? null);
      return command.commitVersion({ fileId: file?.nodeId ?? UNKNOWN, versionId: v(`s${index}`), baseVersionId: base, content: declared });
    }
    case 'move': {
      const nodeId = t.node(s.pick);
      const own = ws.nodes.get(nodeId)?.name ?? name;
      // Sometimes its own name in another case, to exercise case-only renames and no-op moves.
      const newName = s.flags % 4 === 0 ? own.toUpperCase() : s.flags % 4 === 1 ? own : name;
      return command.move(nodeId, s.flags % 8 < 2 ? (ws.nodes.get(nodeId)?.parentId ?? ROOT) : t.folder(s.other), newName);
    }
    case 'delete':
      return command.delete(t.node(s.pick));
    case 'undelete':
      return command.undelete(t.trashRoot(s.pick), {
        ...(s.flags % 4 === 0 ? { parentId: t.folder(s.other) } : {}),
        ...(s.flags % 8 === 1 ? { name } : {}),
      });
    case 'restoreVersion': {
      const file = t.file(s.pick);
      return command.restoreVersion(file?.nodeId ?? UNKNOWN, at(versionsOf(file), s.other) ?? v('none'), v(`s${index}`));
    }
    case 'purgeNode':
      return command.purge(t.trashRoot(s.pick));
    case 'purgeVersions': {
      const file = t.file(s.pick);
      const chosen = versionsOf(file).filter((id, i) => (s.other >> i) % 2 === 1 && (id !== file?.latestVersionId || s.flags % 3 === 0));
      return command.purge(file?.nodeId ?? t.node(s.pick), chosen);
    }
    default: {
      const _exhaustive: never = s.kind;
      return _exhaustive;
    }
  }
};

const seen = new Set<string>();

/** The whole state as text (Maps included), to tell cheaply whether anything in it changed. */
const fingerprint = (state: WorkspaceState): string =>
  JSON.stringify(state, (_key, value: unknown) => (value instanceof Map ? [...value.entries()] : value));

/** Runs a session from no workspace at all, checking every step; throws on the first break. */
const run = (steps: readonly Step[]): void => {
  let state = initialState();
  steps.forEach((s, index) => {
    const cmd = commandFor(s, state, index);
    const previous = state;
    const snapshot = fingerprint(previous);
    const decided = decide(cmd, state);
    if (E.isLeft(decided)) {
      seen.add(`${cmd.type} failed: ${decided.left.code}`);
      // Nothing to apply, so the state stays as it was: decide must not have touched it either.
      expect(fingerprint(previous), `decide mutated the state while refusing ${cmd.type}`).toBe(snapshot);
      return;
    }
    seen.add(`${cmd.type} decided ${decided.right.map((e) => e.type).join(',') || 'nothing'}`);
    for (const e of decided.right) {
      expect(WorkspaceEvent.is(e), `${e.type} does not match its codec`).toBe(true);
      state = evolve(state, e);
    }
    expect(fingerprint(previous), `decide or evolve mutated the state on ${cmd.type}`).toBe(snapshot);
    expect(invariantViolations(state), `after ${JSON.stringify(cmd)}`).toEqual([]);
    const usedBefore = previous.status === 'open' ? previous.usedBytes : 0;
    if (state.status === 'open' && state.usedBytes > usedBefore)
      expect(state.usedBytes, `${cmd.type} grew usedBytes past the quota`).toBeLessThanOrEqual(state.quotaBytes);
  });
};

describe('any sequence of commands from a fresh workspace', () => {
  it('keeps every invariant, and a refused command changes nothing', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 60, size: 'max' }), run), { numRuns: 400 });

    // A generator that only produced refusals would pass vacuously: check it reached real work.
    const expected = [
      'CreateWorkspace decided WorkspaceCreated',
      'CreateFolder decided FolderCreated',
      'CommitFileVersion decided FileVersionCommitted',
      'MoveNode decided NodeMoved',
      'MoveNode decided nothing',
      'DeleteNode decided NodeDeleted',
      'UndeleteNode decided NodeRestored',
      'RestoreVersion decided VersionRestored',
      'PurgeNode decided NodePurged',
      'CreateWorkspace failed: workspace_exists',
      'CreateFolder failed: name_conflict',
      'CreateFolder failed: invalid_name',
      'CreateFolder failed: not_a_folder',
      'CreateFolder failed: id_taken',
      'CommitFileVersion failed: version_conflict',
      'CommitFileVersion failed: size_mismatch',
      'CommitFileVersion failed: invalid_chunks',
      'CommitFileVersion failed: quota_exceeded',
      'MoveNode failed: cycle',
      'MoveNode failed: root_immutable',
      'MoveNode failed: name_conflict',
      'DeleteNode failed: not_found',
      'UndeleteNode failed: not_in_trash',
      'RestoreVersion failed: gone',
      'PurgeNode failed: version_is_latest',
      'PurgeNode failed: not_in_trash',
    ];
    expect(expected.filter((x) => !seen.has(x))).toEqual([]);
  }, 30_000); // about 2 s; the margin is for a loaded machine and for shrinking a counterexample
});
