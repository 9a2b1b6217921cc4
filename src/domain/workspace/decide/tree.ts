import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { domainError } from '../../errors.js';
import type { NodeId } from '../../ids.js';
import { nameKey, nameProblem } from '../../names.js';
import type { CommandOf } from '../commands.js';
import type { WorkspaceEvent } from '../events.js';
import { isAncestorOrSelf, isLive, liveChildNamed, type OpenWorkspace, type WorkspaceState } from '../state.js';
import { freeName, liveFolder, liveNode, notRoot, open, unusedId, validName, withinQuota, type Decision } from './guards.js';

export const createWorkspace = (c: CommandOf<'CreateWorkspace'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  state.status === 'open'
    ? E.left(domainError('workspace_exists', 'The workspace already exists.', { workspaceId: c.workspaceId }))
    : E.right([{ type: 'WorkspaceCreated', data: { workspaceId: c.workspaceId, ...c.data } }]);

export const createFolder = (c: CommandOf<'CreateFolder'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    open(state),
    E.chainFirst((ws) => unusedId(ws, c.data.nodeId)),
    E.chainFirst(() => validName(c.data.name)),
    E.chainFirst((ws) => liveFolder(ws, c.data.parentId)),
    E.chainFirst((ws) => freeName(ws, c.data.parentId, c.data.name)),
    E.map((): WorkspaceEvent[] => [{ type: 'FolderCreated', data: { ...c.data } }]),
  );

export const moveNode = (c: CommandOf<'MoveNode'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    E.Do,
    E.bind('ws', () => open(state)),
    E.bind('node', ({ ws }) => pipe(liveNode(ws, c.data.nodeId), E.chain((n) => notRoot(ws, n)))),
    E.chainFirst(() => validName(c.data.name)),
    E.chainFirst(({ ws }) => liveFolder(ws, c.data.parentId)),
    E.chainFirst(({ ws, node }) =>
      node.kind === 'folder' && isAncestorOrSelf(ws, node.nodeId, c.data.parentId)
        ? E.left(domainError('cycle', 'A folder cannot be moved into itself or its own subtree.', { nodeId: node.nodeId, parentId: c.data.parentId }))
        : E.right(undefined),
    ),
    E.chainFirst(({ ws, node }) => freeName(ws, c.data.parentId, c.data.name, node.nodeId)),
    E.map(({ node }): WorkspaceEvent[] =>
      // Moving a node to exactly where it is changes nothing, so nothing is recorded.
      node.parentId === c.data.parentId && node.name === c.data.name
        ? []
        : [
            {
              type: 'NodeMoved',
              data: {
                nodeId: node.nodeId,
                kind: node.kind,
                fromParentId: node.parentId ?? c.data.parentId,
                fromName: node.name,
                parentId: c.data.parentId,
                name: c.data.name,
              },
            },
          ],
    ),
  );

export const deleteNode = (c: CommandOf<'DeleteNode'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    open(state),
    E.chain((ws) => pipe(liveNode(ws, c.data.nodeId), E.chain((n) => notRoot(ws, n)))),
    E.map((node): WorkspaceEvent[] => [
      { type: 'NodeDeleted', data: { nodeId: node.nodeId, kind: node.kind, parentId: node.parentId ?? node.nodeId, name: node.name } },
    ]),
  );

const splitExtension = (name: string): [stem: string, ext: string] => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
};

/** As much of stem as fits in a name beside suffix, in whole characters (at least one). */
const keptStem = (stem: string, suffix: string): string => {
  const chars = Array.from(stem);
  while (chars.length > 1 && nameProblem(chars.join('') + suffix) === 'too_long') chars.pop();
  return chars.join('');
};

// A name near the 255-byte limit would outgrow it with " (1)": shorten the stem rather than record
// a name that the API refuses and file systems cannot hold.
const numbered = (name: string, i: number): string => {
  const [stem, ext] = splitExtension(name);
  const candidate = `${keptStem(stem, ` (${i})${ext}`)} (${i})${ext}`;
  // An extension too long to keep beside the number is shortened as part of the stem.
  return nameProblem(candidate) === 'too_long' ? `${keptStem(name, ` (${i})`)} (${i})` : candidate;
};

/** "name (1).ext", "name (2).ext", ...: the first that no live sibling holds. */
const firstFreeName = (ws: OpenWorkspace, parentId: OpenWorkspace['rootId'], name: string): string => {
  if (liveChildNamed(ws, parentId, name) === undefined) return name;
  for (let i = 1; ; i++) {
    const candidate = numbered(name, i);
    if (liveChildNamed(ws, parentId, candidate) === undefined) return candidate;
  }
};

/** Bytes of the files that come back with an undelete: those that went to the trash with the node. */
const trashedFileBytes = (ws: OpenWorkspace, trashRoot: NodeId): number => {
  let bytes = 0;
  for (const node of ws.nodes.values()) if (node.trashedBy === trashRoot && !node.purged && node.kind === 'file') bytes += node.size;
  return bytes;
};

export const undeleteNode = (c: CommandOf<'UndeleteNode'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    E.Do,
    E.bind('ws', () => open(state)),
    E.bind('node', ({ ws }) => {
      const node = ws.nodes.get(c.data.nodeId);
      if (node === undefined || node.purged) return E.left(domainError('not_found', 'No such file or folder.', { nodeId: c.data.nodeId }));
      if (node.trashedBy !== node.nodeId)
        return E.left(
          domainError('not_in_trash', isLive(node) ? 'That node is not in the trash.' : 'That node went to the trash with a folder: undelete the folder.', {
            nodeId: node.nodeId,
            trashedBy: node.trashedBy,
          }),
        );
      return E.right(node);
    }),
    E.bind('parentId', ({ ws, node }) => {
      if (c.data.parentId !== null) return E.map(() => c.data.parentId ?? ws.rootId)(liveFolder(ws, c.data.parentId));
      // Back at its old place; if that folder is gone for good or in the trash, at the root.
      const old = node.parentId === null ? undefined : ws.nodes.get(node.parentId);
      return E.right(old !== undefined && isLive(old) ? old.nodeId : ws.rootId);
    }),
    E.bind('name', ({ ws, node, parentId }) =>
      c.data.name !== null
        ? pipe(validName(c.data.name), E.chain((n) => freeName(ws, parentId, n)))
        : E.right(firstFreeName(ws, parentId, node.name)),
    ),
    // Trash does not count towards the quota, so what comes back out of it must fit again.
    E.chainFirst(({ ws, node }) => withinQuota(ws, trashedFileBytes(ws, node.nodeId))),
    E.map(({ node, parentId, name }): WorkspaceEvent[] => [
      { type: 'NodeRestored', data: { nodeId: node.nodeId, kind: node.kind, parentId, name } },
    ]),
  );

export const purgeNode = (c: CommandOf<'PurgeNode'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    open(state),
    E.chain((ws) => {
      const node = ws.nodes.get(c.data.nodeId);
      if (node === undefined || node.purged) return E.left(domainError('not_found', 'No such file or folder.', { nodeId: c.data.nodeId }));
      const versionIds = c.data.versionIds;
      if (versionIds === null) {
        return node.trashedBy === node.nodeId
          ? E.right<never, WorkspaceEvent[]>([{ type: 'NodePurged', data: { nodeId: node.nodeId, scope: 'node', versionIds: [] } }])
          : E.left(domainError('not_in_trash', 'Only a node in the trash can be purged.', { nodeId: node.nodeId }));
      }
      if (node.kind !== 'file') return E.left(domainError('not_a_file', 'Only a file has versions.', { nodeId: node.nodeId }));
      for (const id of versionIds) {
        if (!node.versions.has(id)) return E.left(domainError('not_found', 'No such version.', { versionId: id }));
        if (id === node.latestVersionId)
          return E.left(domainError('version_is_latest', "The latest version is the file's content; delete the file instead.", { versionId: id }));
      }
      const purgeable = [...new Set(versionIds)].filter((id) => node.versions.get(id)?.purged === false);
      return E.right<never, WorkspaceEvent[]>(
        purgeable.length === 0 ? [] : [{ type: 'NodePurged', data: { nodeId: node.nodeId, scope: 'versions', versionIds: purgeable } }],
      );
    }),
  );

/** Exposed for the decision-state loader: the key every name firstFreeName may try starts with. */
export const nameStemKey = (name: string): string => {
  const [stem, ext] = splitExtension(name);
  // The stem kept beside the longest number is the shortest, a prefix of every other kept stem.
  return nameKey(keptStem(stem, ` (${Number.MAX_SAFE_INTEGER})${ext}`));
};
