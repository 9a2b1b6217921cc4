import type { NodeId } from '../ids.js';
import type { EventOf, WorkspaceEvent } from './events.js';
import { isLive, type NodeView, type OpenWorkspace, type VersionView, type WorkspaceState } from './state.js';

const folder = (nodeId: NodeId, parentId: NodeId | null, name: string): NodeView => ({
  nodeId,
  kind: 'folder',
  parentId,
  name,
  trashedBy: null,
  purged: false,
  latestVersionId: null,
  size: 0,
  versions: new Map(),
});

/** What one event changes in an open workspace: these nodes (new or replaced), and the bytes used. */
export interface Change {
  readonly nodes: readonly NodeView[];
  readonly usedDelta: number;
}

export const NO_CHANGE: Change = { nodes: [], usedDelta: 0 };

const changed = (nodes: readonly NodeView[], usedDelta = 0): Change => ({ nodes, usedDelta });

const withChange = (state: OpenWorkspace, change: Change): OpenWorkspace => {
  if (change === NO_CHANGE) return state;
  const nodes = new Map(state.nodes);
  for (const node of change.nodes) nodes.set(node.nodeId, node);
  return { ...state, nodes, usedBytes: state.usedBytes + change.usedDelta };
};

/** Every node below rootId (rootId included) for which keep holds, found by parent links. */
const subtree = (state: OpenWorkspace, rootId: NodeId, keep: (n: NodeView) => boolean): NodeView[] => {
  const children = new Map<NodeId, NodeView[]>();
  for (const node of state.nodes.values()) {
    if (node.parentId === null) continue;
    const list = children.get(node.parentId) ?? [];
    list.push(node);
    children.set(node.parentId, list);
  }
  const root = state.nodes.get(rootId);
  if (root === undefined || !keep(root)) return [];
  const out: NodeView[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as NodeView;
    out.push(node);
    for (const child of children.get(node.nodeId) ?? []) if (keep(child)) stack.push(child);
  }
  return out;
};

const fileBytes = (nodes: readonly NodeView[]): number =>
  nodes.reduce((sum, n) => sum + (n.kind === 'file' ? n.size : 0), 0);

const applyVersion = (
  state: OpenWorkspace,
  e: EventOf<'FileVersionCommitted'>['data'] | EventOf<'VersionRestored'>['data'],
  created: boolean,
): Change => {
  const previous = created ? undefined : state.nodes.get(e.nodeId);
  const version: VersionView = {
    versionId: e.versionId,
    size: e.size,
    contentHash: e.contentHash,
    chunks: e.chunks,
    purged: false,
  };
  const versions = new Map(previous?.versions ?? []);
  versions.set(e.versionId, version);
  const node: NodeView = {
    nodeId: e.nodeId,
    kind: 'file',
    parentId: e.parentId,
    name: e.name,
    trashedBy: null,
    purged: false,
    latestVersionId: e.versionId,
    size: e.size,
    versions,
  };
  return changed([node], e.size - (previous?.size ?? 0));
};

const purgeVersions = (node: NodeView, ids: ReadonlySet<string> | 'all'): NodeView => {
  const versions = new Map<VersionView['versionId'], VersionView>();
  for (const [id, v] of node.versions) versions.set(id, ids === 'all' || ids.has(id) ? { ...v, purged: true } : v);
  return { ...node, versions };
};

/** What an event does to an open workspace (WorkspaceCreated aside, which opens one); NO_CHANGE when nothing. */
export const changeOf = (state: OpenWorkspace, event: Exclude<WorkspaceEvent, { type: 'WorkspaceCreated' }>): Change => {
  switch (event.type) {
    case 'FolderCreated':
      return changed([folder(event.data.nodeId, event.data.parentId, event.data.name)]);
    case 'FileVersionCommitted':
      return applyVersion(state, event.data, event.data.created);
    case 'VersionRestored':
      return applyVersion(state, event.data, false);
    case 'NodeMoved': {
      const node = state.nodes.get(event.data.nodeId);
      return node ? changed([{ ...node, parentId: event.data.parentId, name: event.data.name }]) : NO_CHANGE;
    }
    case 'NodeDeleted': {
      const { nodeId } = event.data;
      const going = subtree(state, nodeId, isLive);
      return changed(going.map((n) => ({ ...n, trashedBy: nodeId })), -fileBytes(going));
    }
    case 'NodeRestored': {
      const { nodeId, parentId, name } = event.data;
      const back = subtree(state, nodeId, (n) => n.trashedBy === nodeId && !n.purged);
      const revived = back.map((n) => (n.nodeId === nodeId ? { ...n, parentId, name, trashedBy: null } : { ...n, trashedBy: null }));
      return changed(revived, fileBytes(back));
    }
    case 'NodePurged': {
      const { nodeId, scope, versionIds } = event.data;
      if (scope === 'versions') {
        const node = state.nodes.get(nodeId);
        return node ? changed([purgeVersions(node, new Set(versionIds))]) : NO_CHANGE;
      }
      const gone = subtree(state, nodeId, (n) => n.trashedBy === nodeId && !n.purged);
      return changed(gone.map((n) => ({ ...purgeVersions(n, 'all'), purged: true })));
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const created = (event: EventOf<'WorkspaceCreated'>): OpenWorkspace => {
  const { workspaceId, rootId, quotaBytes } = event.data;
  return { status: 'open', workspaceId, rootId, quotaBytes, usedBytes: 0, nodes: new Map([[rootId, folder(rootId, null, '')]]) };
};

/** Applies a fact. Never fails, never validates: every check lives in decide. */
export const evolve = (state: WorkspaceState, event: WorkspaceEvent): WorkspaceState => {
  if (event.type === 'WorkspaceCreated') return created(event);
  if (state.status !== 'open') return state;
  return withChange(state, changeOf(state, event));
};

export const fold = (events: Iterable<WorkspaceEvent>, from: WorkspaceState): WorkspaceState => {
  let state = from;
  for (const e of events) state = evolve(state, e);
  return state;
};
