import type { IsoTimestamp, NodeId, VersionId } from '../../domain/ids.js';
import { nameProblem } from '../../domain/names.js';
import type { CommandOf } from '../../domain/workspace/commands.js';
import type { NodeKind } from '../../domain/workspace/events.js';
import { isLiveNode, type HistoricalNode, type HistoricalVersion, type TreeFold } from './fold.js';

type Planned<T extends 'MoveNode' | 'DeleteNode' | 'UndeleteNode' | 'RestoreVersion'> = Pick<CommandOf<T>, 'type' | 'data'>;

/** A command of a rewind, without its workspace and metadata (the caller adds them). */
export type RewindCommand = Planned<'MoveNode'> | Planned<'DeleteNode'> | Planned<'UndeleteNode'> | Planned<'RestoreVersion'>;

interface ChangeBase {
  readonly nodeId: NodeId;
  readonly kind: NodeKind;
  /** Where the node is once the change is made (where it was, for trash and unrecoverable). */
  readonly path: string;
}

/** One change of a rewind, as the API reports it. */
export type RewindChange =
  | (ChangeBase & { readonly action: 'move'; readonly fromPath: string })
  | (ChangeBase & { readonly action: 'undelete' })
  | (ChangeBase & { readonly action: 'trash' })
  | (ChangeBase & { readonly action: 'restore'; readonly versionId: VersionId; readonly restoredFrom: VersionId })
  | (ChangeBase & { readonly action: 'unrecoverable'; readonly reason: 'purged' | 'version_purged' | 'parent_purged'; readonly versionId?: VersionId });

export interface RewindPlan {
  readonly changes: readonly RewindChange[];
  readonly commands: readonly RewindCommand[];
}

export class RewindError extends Error {
  override readonly name = 'RewindError';
  constructor(
    readonly reason: 'parent_gone' | 'parent_inside' | 'stuck',
    message: string,
  ) {
    super(message);
  }
}

export interface RewindOptions {
  /** Ids of the versions that restores create. */
  readonly newVersionId: () => VersionId;
  /** The time the rewind is made at (restored versions' modifiedAt). */
  readonly now: IsoTimestamp;
}

const splitExtension = (name: string): [string, string] => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
};

/** As much of stem as fits beside suffix in a valid name. */
const fitted = (stem: string, suffix: string): string => {
  const chars = Array.from(stem);
  while (chars.length > 1 && nameProblem(chars.join('') + suffix) === 'too_long') chars.pop();
  return chars.join('') + suffix;
};

/** "name (i).ext", shortened to stay a valid name. */
const numbered = (name: string, i: number): string => {
  const [stem, ext] = splitExtension(name);
  const candidate = fitted(stem, ` (${i})${ext}`);
  return nameProblem(candidate) === null ? candidate : fitted(name, ` (${i})`);
};

/**
 * Plans the commands that put the subtree of folderId back as `then` shows it, decided against
 * `now`, which it changes into the state the plan leads to (it applies the events each command
 * will record). Nothing is rewritten: moves back, undeletes, restores of old versions, and
 * trashing of what was created since. Each command is valid against the state the previous ones
 * leave, so the plan runs as one all-or-nothing batch.
 */
export const planRewind = (then: TreeFold, now: TreeFold, folderId: NodeId, options: RewindOptions): RewindPlan =>
  new RewindPlanner(then, now, options).plan(folderId);

class RewindPlanner {
  private readonly changes: RewindChange[] = [];
  private readonly commands: RewindCommand[] = [];
  /** Nodes of the past subtree that are where they were, with the content they had (or never can be). */
  private readonly settled = new Set<NodeId>();
  private readonly unrecoverable = new Set<NodeId>();
  /** Trash roots undeleted only to get past nodes out of them; they go back to the trash at the end. */
  private readonly carriers = new Set<NodeId>();
  private past = new Set<NodeId>();

  constructor(
    private readonly then: TreeFold,
    private readonly sim: TreeFold,
    private readonly options: RewindOptions,
  ) {}

  plan(folderId: NodeId): RewindPlan {
    const order = this.then.liveSubtree(folderId);
    this.past = new Set(order.map((n) => n.nodeId));
    const folder = order[0];
    if (folder === undefined) return { changes: [], commands: [] };
    if (folder.parentId !== null && !this.sim.isLive(folder.parentId))
      throw new RewindError('parent_gone', 'The folder that held this one at that time is not there any more: rewind a folder higher up.');
    if (folder.parentId !== null && this.ancestorsOf(folder.parentId).some((id) => this.past.has(id)))
      throw new RewindError('parent_inside', 'The folder that held this one at that time is inside it (or inside what it held) now: rewind a folder higher up.');
    // Every round settles a node, clears an extra or breaks a deadlock; a bound turns a planner bug into an error, never a loop.
    for (let budget = 20 * order.length + 100; ; budget--) {
      if (budget < 0) throw new RewindError('stuck', 'The rewind could not be planned.');
      let progress = false;
      for (const node of order) if (this.settle(node)) progress = true;
      if (this.clearExtras(folderId)) progress = true;
      if (progress) continue;
      const pending = order.filter((n) => !this.settled.has(n.nodeId));
      const blocked = this.extras(folderId);
      if (pending.length === 0 && blocked.length === 0) break;
      if (!this.breakDeadlock(pending, blocked)) throw new RewindError('stuck', 'The rewind could not be planned.');
    }
    for (const id of this.carriers) {
      const carrier = this.sim.node(id);
      if (carrier !== undefined && isLiveNode(carrier)) this.trash(carrier);
    }
    return { changes: this.changes, commands: this.commands };
  }

  /** One step towards putting a past node back; true when the plan changed. */
  private settle(then: HistoricalNode): boolean {
    const id = then.nodeId;
    if (this.settled.has(id)) return false;
    const node = this.sim.node(id);
    if (node === undefined || node.purged) return this.giveUp(then, 'purged');
    if (then.parentId !== null) {
      const target = { parentId: then.parentId, name: then.name };
      if (this.unrecoverable.has(target.parentId) && !this.sim.isLive(target.parentId)) return this.giveUp(then, 'parent_purged');
      if (node.trashedBy !== null) return this.bringBack(then, node, target);
      if (node.parentId !== target.parentId || node.name !== target.name) return this.moveBack(node, target);
    }
    this.settled.add(id);
    if (then.kind !== 'file' || then.latestVersionId === null) return true;
    const was = then.versions.get(then.latestVersionId) as HistoricalVersion;
    const current = node.latestVersionId === null ? undefined : node.versions.get(node.latestVersionId);
    if (current?.contentHash === was.contentHash) return true;
    const old = node.versions.get(was.versionId);
    if (old === undefined || old.purged) {
      this.changes.push({ action: 'unrecoverable', nodeId: id, kind: 'file', path: this.sim.pathOf(id), reason: 'version_purged', versionId: was.versionId });
      return true;
    }
    this.restore(node, old);
    return true;
  }

  private bringBack(then: HistoricalNode, node: HistoricalNode, target: { parentId: NodeId; name: string }): boolean {
    if (node.trashedBy === node.nodeId) {
      if (!this.sim.isLive(target.parentId) || this.sim.liveChildNamed(target.parentId, target.name) !== undefined) return false;
      this.undelete(node, target.parentId, target.name);
      return true;
    }
    // It went to the trash with a folder: that folder comes back (its own step does it when it is a past node too).
    const carrier = this.sim.node(node.trashedBy as NodeId);
    if (carrier === undefined || carrier.purged) return this.giveUp(then, 'purged');
    if (this.past.has(carrier.nodeId)) return false;
    const parentId = carrier.parentId !== null && this.sim.isLive(carrier.parentId) ? carrier.parentId : (this.sim.rootId as NodeId);
    this.carriers.add(carrier.nodeId);
    this.undelete(carrier, parentId, this.freeName(parentId, carrier.name));
    return true;
  }

  private moveBack(node: HistoricalNode, target: { parentId: NodeId; name: string }): boolean {
    if (!this.sim.isLive(target.parentId)) return false;
    const occupant = this.sim.liveChildNamed(target.parentId, target.name);
    if (occupant !== undefined && occupant.nodeId !== node.nodeId) return false;
    if (node.kind === 'folder' && this.sim.isAncestorOrSelf(node.nodeId, target.parentId)) return false;
    this.move(node, target.parentId, target.name);
    return true;
  }

  private giveUp(then: HistoricalNode, reason: 'purged' | 'parent_purged'): boolean {
    this.settled.add(then.nodeId);
    this.unrecoverable.add(then.nodeId);
    this.changes.push({ action: 'unrecoverable', nodeId: then.nodeId, kind: then.kind, path: this.then.pathOf(then.nodeId), reason });
    return true;
  }

  /** Live nodes in the folder now that were not in it then, topmost only, each with the past nodes still inside it. */
  private extras(folderId: NodeId): Array<{ node: HistoricalNode; holding: HistoricalNode[] }> {
    const out: Array<{ node: HistoricalNode; holding: HistoricalNode[] }> = [];
    for (const node of this.sim.liveSubtree(folderId)) {
      if (this.past.has(node.nodeId) || this.carriers.has(node.nodeId)) continue;
      if (node.parentId === null || !this.past.has(node.parentId)) continue;
      const inside = this.sim.liveSubtree(node.nodeId).filter((n) => this.past.has(n.nodeId));
      // A past node that can never go back stays where it is, and so does what holds it.
      if (inside.length > 0 && inside.every((n) => this.unrecoverable.has(n.nodeId))) continue;
      out.push({ node, holding: inside.filter((n) => !this.unrecoverable.has(n.nodeId)) });
    }
    return out;
  }

  /** What was created in (or moved into) the folder since goes back where it was then, or to the trash. */
  private clearExtras(folderId: NodeId): boolean {
    let progress = false;
    for (const { node, holding } of this.extras(folderId)) {
      if (holding.length > 0 || !this.sim.isLive(node.nodeId)) continue;
      const was = this.then.node(node.nodeId);
      const home = was !== undefined && isLiveNode(was) && was.parentId !== null ? { parentId: was.parentId, name: was.name } : null;
      const canGoHome =
        home !== null &&
        this.sim.isLive(home.parentId) &&
        !this.sim.isAncestorOrSelf(folderId, home.parentId) &&
        !this.sim.isAncestorOrSelf(node.nodeId, home.parentId) &&
        this.sim.liveChildNamed(home.parentId, home.name) === undefined;
      if (canGoHome) this.move(node, home.parentId, home.name);
      else this.trash(node);
      progress = true;
    }
    return progress;
  }

  /** Past nodes that wait on one another (a swap of names, a past node inside what must go): one steps aside. */
  private breakDeadlock(pending: readonly HistoricalNode[], blocked: ReadonlyArray<{ holding: HistoricalNode[] }>): boolean {
    for (const then of pending) {
      if (then.parentId === null || !this.sim.isLive(then.parentId)) continue;
      const occupant = this.sim.liveChildNamed(then.parentId, then.name);
      if (occupant === undefined || occupant.nodeId === then.nodeId || occupant.parentId === null) continue;
      this.move(occupant, occupant.parentId, this.freeName(occupant.parentId, occupant.name));
      return true;
    }
    // A past node in the trash whose way back waits on a node that is in the same trash (a folder
    // moved into its own former child, then deleted): the trash root comes back somewhere free first.
    for (const then of pending) {
      const node = this.sim.node(then.nodeId);
      const rootOfTrash = node?.trashedBy === null || node === undefined ? undefined : this.sim.node(node.trashedBy);
      if (rootOfTrash === undefined || rootOfTrash.purged) continue;
      if (!this.past.has(rootOfTrash.nodeId)) this.carriers.add(rootOfTrash.nodeId);
      const parentId = rootOfTrash.parentId !== null && this.sim.isLive(rootOfTrash.parentId) ? rootOfTrash.parentId : (this.sim.rootId as NodeId);
      this.undelete(rootOfTrash, parentId, this.freeName(parentId, rootOfTrash.name));
      return true;
    }
    for (const { holding } of blocked) {
      const inner = holding.find((n) => this.sim.isLive(n.nodeId));
      if (inner === undefined) continue;
      const rootId = this.sim.rootId as NodeId;
      this.move(inner, rootId, this.freeName(rootId, inner.name));
      return true;
    }
    return false;
  }

  /** nodeId and its ancestors in the current state. */
  private ancestorsOf(nodeId: NodeId): NodeId[] {
    const out: NodeId[] = [];
    for (let current: NodeId | null = nodeId; current !== null && out.length <= this.sim.nodes.size; current = this.sim.node(current)?.parentId ?? null) out.push(current);
    return out;
  }

  private freeName(parentId: NodeId, name: string): string {
    if (this.sim.liveChildNamed(parentId, name) === undefined) return name;
    for (let i = 1; ; i++) {
      const candidate = numbered(name, i);
      if (this.sim.liveChildNamed(parentId, candidate) === undefined) return candidate;
    }
  }

  private place() {
    return { version: this.sim.cursor, at: this.options.now };
  }

  private move(node: HistoricalNode, parentId: NodeId, name: string): void {
    const fromPath = this.sim.pathOf(node.nodeId);
    this.commands.push({ type: 'MoveNode', data: { nodeId: node.nodeId, parentId, name } });
    this.sim.apply(
      { type: 'NodeMoved', data: { nodeId: node.nodeId, kind: node.kind, fromParentId: node.parentId ?? parentId, fromName: node.name, parentId, name } },
      this.place(),
    );
    this.changes.push({ action: 'move', nodeId: node.nodeId, kind: node.kind, path: this.sim.pathOf(node.nodeId), fromPath });
  }

  private trash(node: HistoricalNode): void {
    this.changes.push({ action: 'trash', nodeId: node.nodeId, kind: node.kind, path: this.sim.pathOf(node.nodeId) });
    this.commands.push({ type: 'DeleteNode', data: { nodeId: node.nodeId } });
    this.sim.apply({ type: 'NodeDeleted', data: { nodeId: node.nodeId, kind: node.kind, parentId: node.parentId ?? node.nodeId, name: node.name } }, this.place());
  }

  private undelete(node: HistoricalNode, parentId: NodeId, name: string): void {
    this.commands.push({ type: 'UndeleteNode', data: { nodeId: node.nodeId, parentId, name } });
    this.sim.apply({ type: 'NodeRestored', data: { nodeId: node.nodeId, kind: node.kind, parentId, name } }, this.place());
    this.changes.push({ action: 'undelete', nodeId: node.nodeId, kind: node.kind, path: this.sim.pathOf(node.nodeId) });
  }

  private restore(file: HistoricalNode, from: HistoricalVersion): void {
    const versionId = this.options.newVersionId();
    this.commands.push({ type: 'RestoreVersion', data: { fileId: file.nodeId, fromVersionId: from.versionId, versionId } });
    this.sim.apply(
      {
        type: 'VersionRestored',
        data: {
          nodeId: file.nodeId, parentId: file.parentId ?? (this.sim.rootId as NodeId), name: file.name, versionId,
          size: from.size, contentHash: from.contentHash, chunks: [...from.chunks],
          modifiedAt: this.options.now, restoredFromVersionId: from.versionId,
        },
      },
      this.place(),
    );
    this.changes.push({ action: 'restore', nodeId: file.nodeId, kind: 'file', path: this.sim.pathOf(file.nodeId), versionId, restoredFrom: from.versionId });
  }
}
