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

const withNodes = (state: OpenWorkspace, changed: readonly NodeView[], usedDelta = 0): OpenWorkspace => {
  const nodes = new Map(state.nodes);
  for (const node of changed) nodes.set(node.nodeId, node);
  return { ...state, nodes, usedBytes: state.usedBytes + usedDelta };
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
): OpenWorkspace => {
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
  return withNodes(state, [node], e.size - (previous?.size ?? 0));
};

const purgeVersions = (node: NodeView, ids: ReadonlySet<string> | 'all'): NodeView => {
  const versions = new Map<VersionView['versionId'], VersionView>();
  for (const [id, v] of node.versions) versions.set(id, ids === 'all' || ids.has(id) ? { ...v, purged: true } : v);
  return { ...node, versions };
};

/** Applies a fact. Never fails, never validates: every check lives in decide. */
export const evolve = (state: WorkspaceState, event: WorkspaceEvent): WorkspaceState => {
  if (event.type === 'WorkspaceCreated') {
    const { workspaceId, rootId, quotaBytes } = event.data;
    return { status: 'open', workspaceId, rootId, quotaBytes, usedBytes: 0, nodes: new Map([[rootId, folder(rootId, null, '')]]) };
  }
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'FolderCreated':
      return withNodes(state, [folder(event.data.nodeId, event.data.parentId, event.data.name)]);
    case 'FileVersionCommitted':
      return applyVersion(state, event.data, event.data.created);
    case 'VersionRestored':
      return applyVersion(state, event.data, false);
    case 'NodeMoved': {
      const node = state.nodes.get(event.data.nodeId);
      return node ? withNodes(state, [{ ...node, parentId: event.data.parentId, name: event.data.name }]) : state;
    }
    case 'NodeDeleted': {
      const { nodeId } = event.data;
      const going = subtree(state, nodeId, isLive);
      return withNodes(state, going.map((n) => ({ ...n, trashedBy: nodeId })), -fileBytes(going));
    }
    case 'NodeRestored': {
      const { nodeId, parentId, name } = event.data;
      const back = subtree(state, nodeId, (n) => n.trashedBy === nodeId && !n.purged);
      const revived = back.map((n) => (n.nodeId === nodeId ? { ...n, parentId, name, trashedBy: null } : { ...n, trashedBy: null }));
      return withNodes(state, revived, fileBytes(back));
    }
    case 'NodePurged': {
      const { nodeId, scope, versionIds } = event.data;
      if (scope === 'versions') {
        const node = state.nodes.get(nodeId);
        return node ? withNodes(state, [purgeVersions(node, new Set(versionIds))]) : state;
      }
      const gone = subtree(state, nodeId, (n) => n.trashedBy === nodeId && !n.purged);
      return withNodes(state, gone.map((n) => ({ ...purgeVersions(n, 'all'), purged: true })));
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

export const fold = (events: Iterable<WorkspaceEvent>, from: WorkspaceState): WorkspaceState => {
  let state = from;
  for (const e of events) state = evolve(state, e);
  return state;
};
