import { chunkTotal } from '../chunks.js';
import type { NodeId } from '../ids.js';
import { nameKey, nameProblem } from '../names.js';
import { isLive, type NodeView, type OpenWorkspace, type WorkspaceState } from './state.js';

type Check = (ws: OpenWorkspace, live: readonly NodeView[]) => string[];

const rootIsLiveFolder: Check = (ws) => {
  const root = ws.nodes.get(ws.rootId);
  if (root === undefined) return [`root ${ws.rootId} is missing`];
  const out: string[] = [];
  if (root.kind !== 'folder') out.push(`root ${ws.rootId} is a ${root.kind}`);
  if (root.parentId !== null) out.push(`root ${ws.rootId} has parent ${root.parentId}`);
  if (!isLive(root)) out.push(`root ${ws.rootId} is trashed or purged`);
  return out;
};

const parentsAreLiveFolders: Check = (ws, live) =>
  live.flatMap((node) => {
    if (node.nodeId === ws.rootId) return [];
    if (node.parentId === null) return [`${node.nodeId} is live without a parent`];
    const parent = ws.nodes.get(node.parentId);
    if (parent === undefined) return [`${node.nodeId} has missing parent ${node.parentId}`];
    if (!isLive(parent)) return [`${node.nodeId} is live under trashed or purged ${parent.nodeId}`];
    return parent.kind === 'folder' ? [] : [`${node.nodeId} is under file ${parent.nodeId}`];
  });

const namesAreValid: Check = (ws, live) =>
  live.flatMap((node) => {
    const problem = node.nodeId === ws.rootId ? null : nameProblem(node.name);
    return problem === null ? [] : [`${node.nodeId} has an invalid name (${problem})`];
  });

const siblingNamesAreUnique: Check = (ws, live) => {
  const seen = new Map<NodeId, Map<string, NodeId>>();
  return live.flatMap((node) => {
    if (node.parentId === null) return [];
    const siblings = seen.get(node.parentId) ?? new Map<string, NodeId>();
    seen.set(node.parentId, siblings);
    const key = nameKey(node.name);
    const other = siblings.get(key);
    siblings.set(key, node.nodeId);
    return other === undefined ? [] : [`${other} and ${node.nodeId} collide as "${key}" under ${node.parentId}`];
  });
};

const reachesRoot: Check = (ws, live) =>
  live.flatMap((node) => {
    const visited = new Set<NodeId>();
    let current: NodeView | undefined = node;
    while (current !== undefined && current.nodeId !== ws.rootId) {
      if (visited.has(current.nodeId)) return [`${node.nodeId} is in a parent cycle at ${current.nodeId}`];
      visited.add(current.nodeId);
      current = current.parentId === null ? undefined : ws.nodes.get(current.parentId);
    }
    return current === undefined ? [`${node.nodeId} does not reach the root`] : [];
  });

const filesMatchTheirLatestVersion: Check = (_ws, live) =>
  live.flatMap((node) => {
    if (node.kind !== 'file') return [];
    const latest = node.latestVersionId === null ? undefined : node.versions.get(node.latestVersionId);
    if (latest === undefined) return [`file ${node.nodeId} has no latest version ${node.latestVersionId}`];
    const out: string[] = [];
    if (latest.purged) out.push(`file ${node.nodeId}: latest version ${latest.versionId} is purged`);
    if (node.size !== latest.size) out.push(`file ${node.nodeId} has size ${node.size}, its latest version ${latest.size}`);
    const total = chunkTotal(latest.chunks);
    if (total !== latest.size) out.push(`version ${latest.versionId} has size ${latest.size}, its chunks ${total}`);
    return out;
  });

const usedBytesIsLiveFiles: Check = (ws, live) => {
  const total = live.reduce((sum, n) => sum + (n.kind === 'file' ? n.size : 0), 0);
  return ws.usedBytes === total ? [] : [`usedBytes is ${ws.usedBytes}, live files hold ${total}`];
};

// A node trashed with a folder is only reachable through that folder's trash entry.
const trashedWithATrashRoot: Check = (ws) =>
  [...ws.nodes.values()].flatMap((node) => {
    if (node.trashedBy === null) return [];
    const root = ws.nodes.get(node.trashedBy);
    return root !== undefined && root.trashedBy === root.nodeId ? [] : [`${node.nodeId} is trashed by ${node.trashedBy}, which is not a trash root`];
  });

const checks: readonly Check[] = [
  rootIsLiveFolder,
  parentsAreLiveFolders,
  namesAreValid,
  siblingNamesAreUnique,
  reachesRoot,
  filesMatchTheirLatestVersion,
  usedBytesIsLiveFiles,
  trashedWithATrashRoot,
];

/**
 * What must hold in every state that decide and evolve can reach; empty when all hold. Property
 * tests fold random command sequences and check each state against it.
 */
export const invariantViolations = (state: WorkspaceState): string[] => {
  if (state.status !== 'open') return [];
  const live = [...state.nodes.values()].filter(isLive);
  return checks.flatMap((check) => check(state, live));
};
