import { nameKey } from '../../domain/names.js';
import type { WorkspaceEvent } from '../../domain/workspace/events.js';
import type { FoldableEvent } from './read.js';

/**
 * The tree projection's rows of one workspace, folded in memory from its stream: what the inline
 * projection (tree/sql.ts, one statement per event) leaves in rm.*, row for row, so a rebuild can
 * write each row once instead of replaying every UPDATE. Every rule here mirrors a statement of
 * tree/sql.ts, including its corners (a commit to an existing file changes neither its parent nor
 * its name; a move does not touch modified_at; restore and purge select by trashed_by, not by
 * walking the tree); test/projections/bulk.int.test.ts holds the two to identical tables.
 */

export interface WorkspaceRowOut {
  workspace_id: string;
  root_id: string;
  owner_id: string;
  quota_bytes: number;
  used_bytes: number;
  cursor: number;
  created_at: string;
  updated_at: string;
}

export interface NodeRowOut {
  workspace_id: string;
  node_id: string;
  kind: 'file' | 'folder';
  parent_id: string | null;
  name: string;
  name_key: string;
  trashed_by: string | null;
  purged: boolean;
  latest_version_id: string | null;
  size: number;
  content_hash: string | null;
  created_at: string;
  modified_at: string;
}

export interface VersionRowOut {
  workspace_id: string;
  version_id: string;
  node_id: string;
  seq: number;
  size: number;
  content_hash: string;
  chunks: readonly { hash: string; size: number }[];
  restored_from: string | null;
  user_id: string;
  device_id: string | null;
  created_at: string;
  modified_at: string;
  purged_at: string | null;
}

export interface ChunkRefRowOut {
  workspace_id: string;
  hash: string;
  size: number;
  refs: number;
}

export interface TrashRowOut {
  workspace_id: string;
  node_id: string;
  kind: string;
  parent_id: string;
  name: string;
  path: string;
  deleted_at: string;
  user_id: string;
  device_id: string | null;
}

export interface TreeRows {
  readonly workspaces: readonly WorkspaceRowOut[];
  readonly nodes: readonly NodeRowOut[];
  readonly versions: readonly VersionRowOut[];
  readonly chunk_refs: readonly ChunkRefRowOut[];
  readonly trash: readonly TrashRowOut[];
}

const addTo = <K, V>(index: Map<K, Set<V>>, key: K, value: V): void => {
  const set = index.get(key);
  if (set === undefined) index.set(key, new Set([value]));
  else set.add(value);
};

/** One workspace's rows as its events are applied, in stream order. */
export class WorkspaceFold {
  private workspace: WorkspaceRowOut | null = null;
  private readonly nodes = new Map<string, NodeRowOut>();
  /** Every node under each parent, whatever its state (the subtree walk filters live ones). */
  private readonly children = new Map<string, Set<string>>();
  /** Unpurged nodes by the trash root they went to the trash with. */
  private readonly trashedWith = new Map<string, Set<string>>();
  private readonly versions = new Map<string, VersionRowOut>();
  private readonly versionsOf = new Map<string, VersionRowOut[]>();
  private readonly refs = new Map<string, ChunkRefRowOut>();
  private readonly trash = new Map<string, TrashRowOut>();
  /** The last stream version applied. */
  cursor = 0;

  constructor(readonly workspaceId: string) {}

  apply(stored: FoldableEvent): void {
    this.cursor = stored.version;
    const { at } = stored.metadata;
    const e = stored.event;
    if (e.type === 'WorkspaceCreated') {
      this.insertNode({ nodeId: e.data.rootId, kind: 'folder', parentId: null, name: '', at, modifiedAt: at });
      this.workspace = {
        workspace_id: this.workspaceId, root_id: e.data.rootId, owner_id: e.data.ownerId, quota_bytes: e.data.quotaBytes,
        used_bytes: 0, cursor: stored.version, created_at: at, updated_at: at,
      };
      return;
    }
    const delta = this.applyChange(stored, e);
    if (this.workspace !== null) {
      this.workspace.cursor = stored.version;
      this.workspace.updated_at = at;
      this.workspace.used_bytes += delta;
    }
  }

  /** Applies a non-creation event; returns the change in used bytes. */
  private applyChange(stored: FoldableEvent, e: Exclude<WorkspaceEvent, { type: 'WorkspaceCreated' }>): number {
    const { at, userId, deviceId } = stored.metadata;
    switch (e.type) {
      case 'FolderCreated':
        this.insertNode({ nodeId: e.data.nodeId, kind: 'folder', parentId: e.data.parentId, name: e.data.name, at, modifiedAt: at });
        return 0;
      case 'FileVersionCommitted':
      case 'VersionRestored': {
        const d = e.data;
        const existing = this.nodes.get(d.nodeId);
        const delta = d.size - (existing?.size ?? 0);
        if (existing === undefined) this.insertNode({ nodeId: d.nodeId, kind: 'file', parentId: d.parentId, name: d.name, at, modifiedAt: d.modifiedAt });
        const node = this.nodes.get(d.nodeId) as NodeRowOut;
        node.latest_version_id = d.versionId;
        node.size = d.size;
        node.content_hash = d.contentHash;
        node.modified_at = d.modifiedAt;
        const version: VersionRowOut = {
          workspace_id: this.workspaceId, version_id: d.versionId, node_id: d.nodeId, seq: stored.version, size: d.size,
          content_hash: d.contentHash, chunks: d.chunks, restored_from: e.type === 'VersionRestored' ? e.data.restoredFromVersionId : null,
          user_id: userId, device_id: deviceId ?? null, created_at: at, modified_at: d.modifiedAt, purged_at: null,
        };
        this.versions.set(d.versionId, version);
        const list = this.versionsOf.get(d.nodeId);
        if (list === undefined) this.versionsOf.set(d.nodeId, [version]);
        else list.push(version);
        // One reference per distinct chunk of the version; an existing row keeps its size.
        for (const c of d.chunks) {
          const ref = this.refs.get(c.hash);
          if (ref === undefined) this.refs.set(c.hash, { workspace_id: this.workspaceId, hash: c.hash, size: c.size, refs: 0 });
        }
        for (const hash of new Set(d.chunks.map((c) => c.hash))) (this.refs.get(hash) as ChunkRefRowOut).refs += 1;
        return delta;
      }
      case 'NodeMoved': {
        const node = this.nodes.get(e.data.nodeId);
        if (node !== undefined) this.reparent(node, e.data.parentId, e.data.name);
        return 0;
      }
      case 'NodeDeleted':
        return this.deleted(e.data, at, userId, deviceId ?? null);
      case 'NodeRestored': {
        const { nodeId, parentId, name } = e.data;
        const back = this.trashedWith.get(nodeId) ?? new Set<string>();
        this.trashedWith.delete(nodeId);
        let bytes = 0;
        for (const id of back) {
          const node = this.nodes.get(id) as NodeRowOut;
          node.trashed_by = null;
          if (id === nodeId) this.reparent(node, parentId, name);
          if (node.kind === 'file') bytes += node.size;
        }
        this.trash.delete(nodeId);
        return bytes;
      }
      case 'NodePurged': {
        if (e.data.scope === 'node') {
          const gone = this.trashedWith.get(e.data.nodeId) ?? new Set<string>();
          this.trashedWith.delete(e.data.nodeId);
          const versions: VersionRowOut[] = [];
          for (const id of gone) {
            (this.nodes.get(id) as NodeRowOut).purged = true;
            for (const v of this.versionsOf.get(id) ?? []) if (v.purged_at === null) versions.push(v);
          }
          this.purgeVersions(versions, at);
          this.trash.delete(e.data.nodeId);
        } else {
          const wanted = new Set<string>(e.data.versionIds);
          this.purgeVersions((this.versionsOf.get(e.data.nodeId) ?? []).filter((v) => wanted.has(v.version_id) && v.purged_at === null), at);
        }
        return 0;
      }
      default: {
        const _exhaustive: never = e;
        return _exhaustive;
      }
    }
  }

  private insertNode(n: { nodeId: string; kind: 'file' | 'folder'; parentId: string | null; name: string; at: string; modifiedAt: string }): void {
    this.nodes.set(n.nodeId, {
      workspace_id: this.workspaceId, node_id: n.nodeId, kind: n.kind, parent_id: n.parentId, name: n.name, name_key: nameKey(n.name),
      trashed_by: null, purged: false, latest_version_id: null, size: 0, content_hash: null, created_at: n.at, modified_at: n.modifiedAt,
    });
    if (n.parentId !== null) addTo(this.children, n.parentId, n.nodeId);
  }

  private reparent(node: NodeRowOut, parentId: string, name: string): void {
    if (node.parent_id !== null) this.children.get(node.parent_id)?.delete(node.node_id);
    addTo(this.children, parentId, node.node_id);
    node.parent_id = parentId;
    node.name = name;
    node.name_key = nameKey(name);
  }

  /** The names from the root down to nodeId, root excluded ('' for the root), as tree/sql.ts nodePath. */
  private pathOf(nodeId: string): string {
    const names: string[] = [];
    for (let node = this.nodes.get(nodeId); node !== undefined; node = node.parent_id === null ? undefined : this.nodes.get(node.parent_id))
      if (node.parent_id !== null) names.push(node.name);
    return names.reverse().join('/');
  }

  private deleted(d: { nodeId: string; kind: string; parentId: string; name: string }, at: string, userId: string, deviceId: string | null): number {
    const parentPath = this.pathOf(d.parentId);
    const live = (n: NodeRowOut | undefined): n is NodeRowOut => n !== undefined && n.trashed_by === null && !n.purged;
    const root = this.nodes.get(d.nodeId);
    let bytes = 0;
    if (live(root)) {
      const marked: NodeRowOut[] = [];
      const stack = [root];
      while (stack.length > 0) {
        const node = stack.pop() as NodeRowOut;
        marked.push(node);
        for (const id of this.children.get(node.node_id) ?? []) {
          const child = this.nodes.get(id);
          if (live(child)) stack.push(child);
        }
      }
      for (const node of marked) {
        node.trashed_by = d.nodeId;
        addTo(this.trashedWith, d.nodeId, node.node_id);
        if (node.kind === 'file') bytes += node.size;
      }
    }
    this.trash.set(d.nodeId, {
      workspace_id: this.workspaceId, node_id: d.nodeId, kind: d.kind, parent_id: d.parentId, name: d.name,
      path: `${parentPath === '' ? '' : `/${parentPath}`}/${d.name}`, deleted_at: at, user_id: userId, device_id: deviceId,
    });
    return -bytes;
  }

  /** Marks versions purged and drops one reference per distinct chunk of each; unreferenced chunks go. */
  private purgeVersions(versions: readonly VersionRowOut[], at: string): void {
    for (const v of versions) {
      v.purged_at = at;
      for (const hash of new Set(v.chunks.map((c) => c.hash))) {
        const ref = this.refs.get(hash);
        if (ref !== undefined) ref.refs -= 1;
      }
    }
    for (const [hash, ref] of this.refs) if (ref.refs === 0) this.refs.delete(hash);
  }

  rows(): TreeRows {
    return {
      workspaces: this.workspace === null ? [] : [this.workspace],
      nodes: [...this.nodes.values()],
      versions: [...this.versions.values()],
      chunk_refs: [...this.refs.values()],
      trash: [...this.trash.values()],
    };
  }
}
