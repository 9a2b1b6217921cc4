import * as E from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { WorkspaceEvent } from '../../domain/workspace/events.js';
import type { ApiEvent } from '../api/codecs.js';
import type { RemoteNode } from '../state/model.js';
import type { ClientState } from '../state/store.js';

const KNOWN = new Set(['WorkspaceCreated', 'FolderCreated', 'FileVersionCommitted', 'VersionRestored', 'NodeMoved', 'NodeDeleted', 'NodeRestored', 'NodePurged']);

/** The event's facts, or null for a type this client does not know (api-v1.md: clients ignore those). */
export const decodeEvent = (event: ApiEvent): WorkspaceEvent | null => {
  if (!KNOWN.has(event.type)) return null;
  const decoded = WorkspaceEvent.decode({ type: event.type, data: event.data });
  if (E.isLeft(decoded)) throw new Error(`event ${event.seq} (${event.type}) is not what api-v1.md describes: ${PathReporter.report(decoded).join('; ')}`);
  return decoded.right;
};

/** Every node under nodeId (not itself), parents before children. */
export const descendants = (state: ClientState, nodeId: string): RemoteNode[] => {
  const found: RemoteNode[] = [];
  const queue = [nodeId];
  for (let id = queue.shift(); id !== undefined; id = queue.shift())
    for (const child of state.children.get(id) ?? []) {
      const node = state.remote.get(child);
      if (node === undefined) continue;
      found.push(node);
      queue.push(child);
    }
  return found;
};

/** Applies one pulled event to the remote tree. */
export const applyRemoteEvent = (state: ClientState, event: WorkspaceEvent): void => {
  switch (event.type) {
    case 'WorkspaceCreated':
      state.setRemote({ nodeId: event.data.rootId, kind: 'folder', parentId: null, name: '', trashedBy: null, version: null });
      return;
    case 'FolderCreated':
      state.setRemote({ nodeId: event.data.nodeId, kind: 'folder', parentId: event.data.parentId, name: event.data.name, trashedBy: null, version: null });
      return;
    case 'FileVersionCommitted':
    case 'VersionRestored': {
      const d = event.data;
      state.setRemote({
        nodeId: d.nodeId,
        kind: 'file',
        parentId: d.parentId,
        name: d.name,
        trashedBy: null,
        version: { versionId: d.versionId, contentHash: d.contentHash, size: d.size, chunks: d.chunks.map(({ hash, size }) => ({ hash, size })) },
      });
      return;
    }
    case 'NodeMoved': {
      const node = state.remote.get(event.data.nodeId);
      if (node !== undefined) state.setRemote({ ...node, parentId: event.data.parentId, name: event.data.name });
      return;
    }
    case 'NodeDeleted': {
      const node = state.remote.get(event.data.nodeId);
      if (node === undefined) return;
      state.setRemote({ ...node, trashedBy: node.nodeId });
      for (const d of descendants(state, node.nodeId)) if (d.trashedBy === null) state.setRemote({ ...d, trashedBy: node.nodeId });
      return;
    }
    case 'NodeRestored': {
      const node = state.remote.get(event.data.nodeId);
      if (node === undefined) return;
      state.setRemote({ ...node, trashedBy: null, parentId: event.data.parentId, name: event.data.name });
      for (const d of descendants(state, node.nodeId)) if (d.trashedBy === node.nodeId) state.setRemote({ ...d, trashedBy: null });
      return;
    }
    case 'NodePurged':
      // Only trashed nodes are purged, and they stay known here as trashed: a synced entry of one
      // is then recognised as deleted, never taken for a node this device has not pulled yet.
      return;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

/** The node's path from the root ('' for the root), or null when it or a folder above it is not live. */
export const remotePath = (state: ClientState, rootId: string, nodeId: string): string | null => {
  const names: string[] = [];
  for (let id: string | null = nodeId, depth = 0; id !== rootId; depth++) {
    if (id === null || depth > 10_000) return null;
    const node = state.remote.get(id);
    if (node === undefined || node.trashedBy !== null) return null;
    names.push(node.name);
    id = node.parentId;
  }
  return names.reverse().join('/');
};
