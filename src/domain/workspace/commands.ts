import * as t from 'io-ts';
import { ChunkRef } from '../chunks.js';
import { ChunkHash, DeviceId, IsoTimestamp, NodeId, NonNegativeInt, UserId, VersionId, WorkspaceId } from '../ids.js';

/** Who asks, when, and why: time and ids come in with the command, never read inside the domain. */
export const CommandMetadata = t.intersection([
  t.type({ now: IsoTimestamp, userId: UserId }),
  t.partial({
    deviceId: t.union([DeviceId, t.null]),
    correlationId: t.string,
    causationId: t.string,
    idempotencyKey: t.string,
  }),
]);
export type CommandMetadata = t.TypeOf<typeof CommandMetadata>;

const command = <T extends string, D extends t.Props>(type: T, data: D) =>
  t.type({ type: t.literal(type), workspaceId: WorkspaceId, data: t.type(data), metadata: CommandMetadata }, type);

export const CreateWorkspace = command('CreateWorkspace', {
  rootId: NodeId,
  ownerId: UserId,
  quotaBytes: NonNegativeInt,
});

export const CreateFolder = command('CreateFolder', {
  nodeId: NodeId,
  parentId: NodeId,
  name: t.string,
});

/**
 * A new file (newFile: true, fileId freshly generated) or a new version of fileId edited from
 * baseVersionId. contentHash is computed by the server from the verified chunk hashes.
 */
export const CommitFileVersion = command('CommitFileVersion', {
  fileId: NodeId,
  newFile: t.boolean,
  parentId: NodeId,
  name: t.string,
  versionId: VersionId,
  baseVersionId: t.union([VersionId, t.null]),
  chunks: t.array(ChunkRef),
  size: NonNegativeInt,
  contentHash: ChunkHash,
  modifiedAt: t.union([IsoTimestamp, t.null]),
});

export const MoveNode = command('MoveNode', {
  nodeId: NodeId,
  parentId: NodeId,
  name: t.string,
});

export const DeleteNode = command('DeleteNode', { nodeId: NodeId });

export const UndeleteNode = command('UndeleteNode', {
  nodeId: NodeId,
  parentId: t.union([NodeId, t.null]),
  name: t.union([t.string, t.null]),
});

export const RestoreVersion = command('RestoreVersion', {
  fileId: NodeId,
  fromVersionId: VersionId,
  versionId: VersionId,
});

export const PurgeNode = command('PurgeNode', {
  nodeId: NodeId,
  /** null: the trashed node and its subtree; a list: those old versions of a live or trashed file. */
  versionIds: t.union([t.array(VersionId), t.null]),
});

export const WorkspaceCommand = t.union([
  CreateWorkspace,
  CreateFolder,
  CommitFileVersion,
  MoveNode,
  DeleteNode,
  UndeleteNode,
  RestoreVersion,
  PurgeNode,
]);
export type WorkspaceCommand = t.TypeOf<typeof WorkspaceCommand>;
export type CommandOf<T extends WorkspaceCommand['type']> = Extract<WorkspaceCommand, { type: T }>;
