import type { ChunkRef } from '../../domain/chunks.js';
import type { ChunkHash, NodeId, NonNegativeInt, VersionId, WorkspaceId } from '../../domain/ids.js';
import { nameKey } from '../../domain/names.js';
import type { EventOf, NodeKind, WorkspaceEvent } from '../../domain/workspace/events.js';
import type { NodeView, VersionView, WorkspaceState } from '../../domain/workspace/state.js';

export interface HistoricalVersion {
  readonly versionId: VersionId;
  readonly size: NonNegativeInt;
  readonly contentHash: ChunkHash;
  readonly chunks: readonly ChunkRef[];
  purged: boolean;
  /** When the version was recorded (its event's time). */
  readonly createdAt: string;
  readonly modifiedAt: string;
  readonly restoredFrom: VersionId | null;
}

export interface HistoricalNode {
  readonly nodeId: NodeId;
  readonly kind: NodeKind;
  parentId: NodeId | null;
  name: string;
  trashedBy: NodeId | null;
  purged: boolean;
  latestVersionId: VersionId | null;
  size: number;
  /** A folder's creation time; a file's latest version's modifiedAt (what the tree projection shows). */
  modifiedAt: string;
  versions: Map<VersionId, HistoricalVersion>;
}

/** Where an event sits in its stream and when it was recorded. */
export interface EventPlace {
  readonly version: number;
  readonly at: string;
}

export const isLiveNode = (n: HistoricalNode): boolean => n.trashedBy === null && !n.purged;

const joinPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/**
 * The workspace folded from its events with mutable maps and a children index, so each event costs
 * what it touches (a subtree for a delete, one node for a move) instead of a copy of every node as
 * the domain's evolve makes. It means exactly what the domain fold means (a property test holds
 * toWorkspaceState() equal to fold()), plus the times the read side shows.
 */
export class TreeFold {
  workspaceId: WorkspaceId | null = null;
  rootId: NodeId | null = null;
  quotaBytes = 0;
  usedBytes = 0;
  /** Stream version of the last event applied (0: none). */
  cursor = 0;
  /** Time of the last event applied. */
  lastAt: string | null = null;
  readonly nodes = new Map<NodeId, HistoricalNode>();
  /** Every node (live, trashed or purged) by its parent, as the domain's subtree walk sees them. */
  private readonly children = new Map<NodeId, Set<NodeId>>();

  get exists(): boolean {
    return this.rootId !== null;
  }

  /** Applies a fact, as evolve does: never fails, never validates. */
  apply(event: WorkspaceEvent, place: EventPlace): void {
    this.cursor = place.version;
    this.lastAt = place.at;
    if (event.type === 'WorkspaceCreated') {
      this.nodes.clear();
      this.children.clear();
      this.workspaceId = event.data.workspaceId;
      this.rootId = event.data.rootId;
      this.quotaBytes = event.data.quotaBytes;
      this.usedBytes = 0;
      this.put(this.folder(event.data.rootId, null, '', place.at));
      return;
    }
    if (!this.exists) return;
    switch (event.type) {
      case 'FolderCreated':
        this.put(this.folder(event.data.nodeId, event.data.parentId, event.data.name, place.at));
        return;
      case 'FileVersionCommitted':
        this.applyVersion(event.data, event.data.created, null, place.at);
        return;
      case 'VersionRestored':
        this.applyVersion(event.data, false, event.data.restoredFromVersionId, place.at);
        return;
      case 'NodeMoved': {
        const node = this.nodes.get(event.data.nodeId);
        if (node !== undefined) this.relink(node, event.data.parentId, event.data.name);
        return;
      }
      case 'NodeDeleted': {
        const going = this.subtree(event.data.nodeId, isLiveNode);
        for (const n of going) n.trashedBy = event.data.nodeId;
        this.usedBytes -= fileBytes(going);
        return;
      }
      case 'NodeRestored': {
        const { nodeId, parentId, name } = event.data;
        const back = this.subtree(nodeId, (n) => n.trashedBy === nodeId && !n.purged);
        for (const n of back) {
          n.trashedBy = null;
          if (n.nodeId === nodeId) this.relink(n, parentId, name);
        }
        this.usedBytes += fileBytes(back);
        return;
      }
      case 'NodePurged': {
        const { nodeId, scope, versionIds } = event.data;
        if (scope === 'versions') {
          const node = this.nodes.get(nodeId);
          for (const id of versionIds) {
            const v = node?.versions.get(id);
            if (v !== undefined) v.purged = true;
          }
          return;
        }
        for (const n of this.subtree(nodeId, (x) => x.trashedBy === nodeId && !x.purged)) {
          n.purged = true;
          for (const v of n.versions.values()) v.purged = true;
        }
        return;
      }
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }

  node(nodeId: string): HistoricalNode | undefined {
    return this.nodes.get(nodeId as NodeId);
  }

  isLive(nodeId: string): boolean {
    const n = this.nodes.get(nodeId as NodeId);
    return n !== undefined && isLiveNode(n);
  }

  /** Live children of a folder, ordered by their folded names (as the children API pages them). */
  liveChildren(nodeId: string): HistoricalNode[] {
    const out: HistoricalNode[] = [];
    for (const id of this.children.get(nodeId as NodeId) ?? []) {
      const n = this.nodes.get(id);
      if (n !== undefined && isLiveNode(n)) out.push(n);
    }
    return out
      .map((n) => [nameKey(n.name), n] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, n]) => n);
  }

  /** The live child of parentId whose name collides with name (NFC and case folding), if any. */
  liveChildNamed(parentId: string, name: string): HistoricalNode | undefined {
    const key = nameKey(name);
    for (const id of this.children.get(parentId as NodeId) ?? []) {
      const n = this.nodes.get(id);
      if (n !== undefined && isLiveNode(n) && nameKey(n.name) === key) return n;
    }
    return undefined;
  }

  /** True when ancestorId is nodeId or one of its ancestors. */
  isAncestorOrSelf(ancestorId: string, nodeId: string): boolean {
    let current: NodeId | null = nodeId as NodeId;
    for (let depth = 0; current !== null && depth <= this.nodes.size + 1; depth++) {
      if (current === ancestorId) return true;
      current = this.nodes.get(current)?.parentId ?? null;
    }
    return false;
  }

  /** The path of a node from the root, walking parent links ("/" for the root). */
  pathOf(nodeId: string): string {
    const names: string[] = [];
    let current = this.nodes.get(nodeId as NodeId);
    for (let depth = 0; current !== undefined && current.parentId !== null && depth <= this.nodes.size; depth++) {
      names.push(current.name);
      current = this.nodes.get(current.parentId);
    }
    return names.reverse().reduce(joinPath, '/');
  }

  /** The live node at an absolute path given as its names, compared under NFC and case folding. */
  lookup(segments: readonly string[]): HistoricalNode | null {
    if (this.rootId === null) return null;
    let current = this.nodes.get(this.rootId) ?? null;
    for (const segment of segments) {
      if (current === null) return null;
      current = this.liveChildNamed(current.nodeId, segment) ?? null;
    }
    return current;
  }

  /** Live nodes below nodeId (itself included), parents before their children. */
  liveSubtree(nodeId: string): HistoricalNode[] {
    return this.subtree(nodeId as NodeId, isLiveNode);
  }

  /** The same workspace as the domain's WorkspaceState, for comparison with fold(). */
  toWorkspaceState(): WorkspaceState {
    if (this.workspaceId === null || this.rootId === null) return { status: 'absent' };
    const nodes = new Map<NodeId, NodeView>();
    for (const n of this.nodes.values()) {
      const versions = new Map<VersionId, VersionView>();
      for (const v of n.versions.values())
        versions.set(v.versionId, { versionId: v.versionId, size: v.size, contentHash: v.contentHash, chunks: v.chunks, purged: v.purged });
      nodes.set(n.nodeId, {
        nodeId: n.nodeId, kind: n.kind, parentId: n.parentId, name: n.name, trashedBy: n.trashedBy, purged: n.purged,
        latestVersionId: n.latestVersionId, size: n.size, versions,
      });
    }
    return { status: 'open', workspaceId: this.workspaceId, rootId: this.rootId, quotaBytes: this.quotaBytes, usedBytes: this.usedBytes, nodes };
  }

  private folder(nodeId: NodeId, parentId: NodeId | null, name: string, at: string): HistoricalNode {
    return { nodeId, kind: 'folder', parentId, name, trashedBy: null, purged: false, latestVersionId: null, size: 0, modifiedAt: at, versions: new Map() };
  }

  private put(node: HistoricalNode): void {
    const previous = this.nodes.get(node.nodeId);
    if (previous !== undefined) this.unlink(previous);
    this.nodes.set(node.nodeId, node);
    if (node.parentId !== null) {
      const set = this.children.get(node.parentId) ?? new Set<NodeId>();
      set.add(node.nodeId);
      this.children.set(node.parentId, set);
    }
  }

  private unlink(node: HistoricalNode): void {
    if (node.parentId !== null) this.children.get(node.parentId)?.delete(node.nodeId);
  }

  private relink(node: HistoricalNode, parentId: NodeId, name: string): void {
    this.unlink(node);
    node.parentId = parentId;
    node.name = name;
    this.put(node);
  }

  private applyVersion(
    e: EventOf<'FileVersionCommitted'>['data'] | EventOf<'VersionRestored'>['data'],
    created: boolean,
    restoredFrom: VersionId | null,
    at: string,
  ): void {
    const previous = created ? undefined : this.nodes.get(e.nodeId);
    const versions = previous?.versions ?? new Map<VersionId, HistoricalVersion>();
    versions.set(e.versionId, {
      versionId: e.versionId, size: e.size, contentHash: e.contentHash, chunks: e.chunks, purged: false,
      createdAt: at, modifiedAt: e.modifiedAt, restoredFrom,
    });
    this.usedBytes += e.size - (previous?.size ?? 0);
    this.put({
      nodeId: e.nodeId, kind: 'file', parentId: e.parentId, name: e.name, trashedBy: null, purged: false,
      latestVersionId: e.versionId, size: e.size, modifiedAt: e.modifiedAt, versions,
    });
  }

  /** Every node below rootId (rootId included) for which keep holds, found by parent links; parents come first. */
  private subtree(rootId: NodeId, keep: (n: HistoricalNode) => boolean): HistoricalNode[] {
    const root = this.nodes.get(rootId);
    if (root === undefined || !keep(root)) return [];
    const out = [root];
    for (let i = 0; i < out.length; i++) {
      for (const id of this.children.get((out[i] as HistoricalNode).nodeId) ?? []) {
        const child = this.nodes.get(id);
        if (child !== undefined && keep(child)) out.push(child);
      }
    }
    return out;
  }
}

const fileBytes = (nodes: readonly HistoricalNode[]): number => nodes.reduce((sum, n) => sum + (n.kind === 'file' ? n.size : 0), 0);
