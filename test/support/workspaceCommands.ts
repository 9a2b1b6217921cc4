import crypto from 'node:crypto';
import fc from 'fast-check';
import type { ChunkRef } from '../../src/domain/chunks.js';
import type { ChunkHash, IsoTimestamp, NodeId, NonNegativeInt, UserId, VersionId, WorkspaceId } from '../../src/domain/ids.js';
import type { CommandMetadata, WorkspaceCommand } from '../../src/domain/workspace/commands.js';
import type { NodeView, WorkspaceState } from '../../src/domain/workspace/state.js';

export const sha256 = (bytes: Buffer | string): ChunkHash => crypto.createHash('sha256').update(bytes).digest('hex') as ChunkHash;

/** A chunk description for bytes that never need to exist: the domain only sees hashes and sizes. */
export const chunkOf = (seed: string, size = 1000): ChunkRef => ({ hash: sha256(seed), size: size as NonNegativeInt });

/** The server's content hash: SHA-256 over the ordered chunk hashes. */
export const contentHashOf = (chunks: readonly ChunkRef[]): ChunkHash =>
  sha256(Buffer.concat(chunks.map((c) => Buffer.from(c.hash, 'hex'))));

/** Builds commands for one workspace with a clock that ticks a second per command and sequential ids. */
export const commandsFor = (workspaceId: string, user = 'u1') => {
  let tick = Date.parse('2026-01-01T00:00:00.000Z');
  let seq = 0;
  const id = <T = string>(prefix: string): T => `${prefix}${++seq}` as T;
  const meta = (extra: Partial<CommandMetadata> = {}): CommandMetadata => ({
    now: new Date((tick += 1000)).toISOString() as IsoTimestamp,
    userId: user as UserId,
    deviceId: null,
    ...extra,
  });
  const ws = workspaceId as WorkspaceId;
  return {
    id,
    meta,
    createWorkspace: (rootId = 'root', quotaBytes = 10 * 1024 ** 3): WorkspaceCommand => ({
      type: 'CreateWorkspace', workspaceId: ws, data: { rootId: rootId as NodeId, ownerId: user as UserId, quotaBytes: quotaBytes as NonNegativeInt }, metadata: meta(),
    }),
    createFolder: (parentId: string, name: string, nodeId: string = id('d')): WorkspaceCommand => ({
      type: 'CreateFolder', workspaceId: ws, data: { nodeId: nodeId as NodeId, parentId: parentId as NodeId, name }, metadata: meta(),
    }),
    commitNew: (parentId: string, name: string, chunks: ChunkRef[], fileId: string = id('f'), extra: Partial<CommandMetadata> = {}): WorkspaceCommand => ({
      type: 'CommitFileVersion',
      workspaceId: ws,
      data: {
        fileId: fileId as NodeId, newFile: true, parentId: parentId as NodeId, name, versionId: id<VersionId>('v'), baseVersionId: null,
        chunks, size: chunks.reduce((s, c) => s + c.size, 0) as NonNegativeInt, contentHash: contentHashOf(chunks), modifiedAt: null,
      },
      metadata: meta(extra),
    }),
    commitEdit: (file: { fileId: string; parentId: string; name: string }, baseVersionId: string | null, chunks: ChunkRef[]): WorkspaceCommand => ({
      type: 'CommitFileVersion',
      workspaceId: ws,
      data: {
        fileId: file.fileId as NodeId, newFile: false, parentId: file.parentId as NodeId, name: file.name, versionId: id<VersionId>('v'),
        baseVersionId: baseVersionId as VersionId | null, chunks, size: chunks.reduce((s, c) => s + c.size, 0) as NonNegativeInt,
        contentHash: contentHashOf(chunks), modifiedAt: null,
      },
      metadata: meta(),
    }),
    move: (nodeId: string, parentId: string, name: string): WorkspaceCommand => ({
      type: 'MoveNode', workspaceId: ws, data: { nodeId: nodeId as NodeId, parentId: parentId as NodeId, name }, metadata: meta(),
    }),
    remove: (nodeId: string): WorkspaceCommand => ({ type: 'DeleteNode', workspaceId: ws, data: { nodeId: nodeId as NodeId }, metadata: meta() }),
    undelete: (nodeId: string, parentId: string | null = null, name: string | null = null): WorkspaceCommand => ({
      type: 'UndeleteNode', workspaceId: ws, data: { nodeId: nodeId as NodeId, parentId: parentId as NodeId | null, name }, metadata: meta(),
    }),
    restore: (fileId: string, fromVersionId: string): WorkspaceCommand => ({
      type: 'RestoreVersion', workspaceId: ws, data: { fileId: fileId as NodeId, fromVersionId: fromVersionId as VersionId, versionId: id<VersionId>('v') }, metadata: meta(),
    }),
    purge: (nodeId: string, versionIds: string[] | null = null): WorkspaceCommand => ({
      type: 'PurgeNode', workspaceId: ws, data: { nodeId: nodeId as NodeId, versionIds: versionIds as VersionId[] | null }, metadata: meta(),
    }),
  };
};

export type Commands = ReturnType<typeof commandsFor>;

/** A step of a random history: plain data, interpreted against the current state so it shrinks well. */
export interface Recipe {
  readonly op: 'folder' | 'file' | 'edit' | 'staleEdit' | 'move' | 'delete' | 'undelete' | 'restore' | 'purge' | 'purgeVersions';
  readonly a: number;
  readonly b: number;
  readonly name: string;
}

// Few names, with case and normalization variants, so conflicts are common.
const NAMES = ['a', 'A', 'b.txt', 'B.TXT', 'caf\u00e9', 'cafe\u0301', 'x', 'y (1)', 'y'];

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  op: fc.constantFrom('folder', 'folder', 'file', 'file', 'edit', 'staleEdit', 'move', 'move', 'delete', 'delete', 'undelete', 'undelete', 'restore', 'purge', 'purgeVersions'),
  a: fc.nat(1000),
  b: fc.nat(1000),
  name: fc.constantFrom(...NAMES),
});

const pick = <T>(items: readonly T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length]);

/** Turns a recipe into a command against the current (folded) state; null when nothing fits. */
export const interpret = (c: Commands, state: WorkspaceState, r: Recipe): WorkspaceCommand | null => {
  if (state.status !== 'open') return null;
  const all = [...state.nodes.values()].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
  const folders = all.filter((n) => n.kind === 'folder');
  const files = all.filter((n) => n.kind === 'file');
  // Mostly real targets (not the root, trashed nodes for undelete and purge), sometimes anything, to hit the errors too.
  const nonRoot = all.filter((n) => n.parentId !== null);
  const trashed = all.filter((n) => n.trashedBy === n.nodeId && !n.purged);
  const node = r.b % 10 === 0 ? pick(all, r.a) : pick(nonRoot, r.a);
  const inTrash = r.b % 4 !== 0 && trashed.length > 0 ? pick(trashed, r.a) : node;
  const folder = pick(folders, r.b) as NodeView;
  const file = pick(files, r.a);
  const chunks = [chunkOf(`${r.a}:${r.b}`, 1 + (r.a % 7) * 100), ...(r.b % 3 === 0 ? [] : [chunkOf(`${r.b}`, 10 + r.b)])];
  switch (r.op) {
    case 'folder':
      return c.createFolder(folder.nodeId, r.name);
    case 'file':
      return c.commitNew(folder.nodeId, r.name, chunks);
    case 'edit':
      return file ? c.commitEdit({ fileId: file.nodeId, parentId: folder.nodeId, name: r.name }, file.latestVersionId, chunks) : null;
    case 'staleEdit': {
      const old = file ? pick([...file.versions.keys()], r.b) : undefined;
      return file && old ? c.commitEdit({ fileId: file.nodeId, parentId: folder.nodeId, name: r.name }, old, chunks) : null;
    }
    case 'move':
      return node ? c.move(node.nodeId, folder.nodeId, r.b % 4 === 0 ? node.name : r.name) : null;
    case 'delete':
      return node ? c.remove(node.nodeId) : null;
    case 'undelete':
      return inTrash ? c.undelete(inTrash.nodeId, r.b % 3 === 0 ? folder.nodeId : null, r.b % 5 === 0 ? r.name : null) : null;
    case 'restore': {
      const v = file ? pick([...file.versions.keys()], r.b) : undefined;
      return file && v ? c.restore(file.nodeId, v) : null;
    }
    case 'purge':
      return inTrash ? c.purge(inTrash.nodeId) : null;
    case 'purgeVersions': {
      const vs = file ? [...file.versions.keys()].filter((_, i) => (i + r.b) % 2 === 0) : [];
      return file && vs.length > 0 ? c.purge(file.nodeId, vs) : null;
    }
  }
};
