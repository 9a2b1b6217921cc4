import * as t from 'io-ts';
import { ChunkRef } from '../chunks.js';
import { ChunkHash, IsoTimestamp, NodeId, NonNegativeInt, UserId, VersionId, WorkspaceId } from '../ids.js';

const NodeKind = t.union([t.literal('file'), t.literal('folder')]);
export type NodeKind = t.TypeOf<typeof NodeKind>;

const event = <T extends string, D extends t.Props>(type: T, data: D) =>
  t.type({ type: t.literal(type), data: t.type(data) }, type);

export const WorkspaceCreated = event('WorkspaceCreated', {
  workspaceId: WorkspaceId,
  rootId: NodeId,
  ownerId: UserId,
  quotaBytes: NonNegativeInt,
});

export const FolderCreated = event('FolderCreated', {
  nodeId: NodeId,
  parentId: NodeId,
  name: t.string,
});

/** Everything a device needs to materialize the version without another call. */
const VersionFacts = {
  nodeId: NodeId,
  parentId: NodeId,
  name: t.string,
  versionId: VersionId,
  size: NonNegativeInt,
  contentHash: ChunkHash,
  chunks: t.array(ChunkRef),
  modifiedAt: IsoTimestamp,
};

export const FileVersionCommitted = event('FileVersionCommitted', {
  ...VersionFacts,
  baseVersionId: t.union([VersionId, t.null]),
  created: t.boolean,
});

export const VersionRestored = event('VersionRestored', {
  ...VersionFacts,
  restoredFromVersionId: VersionId,
});

export const NodeMoved = event('NodeMoved', {
  nodeId: NodeId,
  kind: NodeKind,
  fromParentId: NodeId,
  fromName: t.string,
  parentId: NodeId,
  name: t.string,
});

/** The node and its whole subtree go to the trash; one event whatever the subtree's size. */
export const NodeDeleted = event('NodeDeleted', {
  nodeId: NodeId,
  kind: NodeKind,
  parentId: NodeId,
  name: t.string,
});

/** Undelete: the node (and what went to the trash with it) is back, possibly at another place. */
export const NodeRestored = event('NodeRestored', {
  nodeId: NodeId,
  kind: NodeKind,
  parentId: NodeId,
  name: t.string,
});

/**
 * Permanent removal. scope 'node': a trashed node and what went to the trash with it.
 * scope 'versions': old (non-latest) versions of a file; the file itself stays.
 */
export const NodePurged = event('NodePurged', {
  nodeId: NodeId,
  scope: t.union([t.literal('node'), t.literal('versions')]),
  versionIds: t.array(VersionId),
});

export const WorkspaceEvent = t.union([
  WorkspaceCreated,
  FolderCreated,
  FileVersionCommitted,
  VersionRestored,
  NodeMoved,
  NodeDeleted,
  NodeRestored,
  NodePurged,
]);
export type WorkspaceEvent = t.TypeOf<typeof WorkspaceEvent>;
export type WorkspaceEventType = WorkspaceEvent['type'];
export type EventOf<T extends WorkspaceEventType> = Extract<WorkspaceEvent, { type: T }>;

/** Current schema version of each event type; bump it and add an upcaster when a shape changes. */
export const EVENT_SCHEMA_VERSION: Readonly<Record<WorkspaceEventType, number>> = {
  WorkspaceCreated: 1,
  FolderCreated: 1,
  FileVersionCommitted: 1,
  VersionRestored: 1,
  NodeMoved: 1,
  NodeDeleted: 1,
  NodeRestored: 1,
  NodePurged: 1,
};
