import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import type { ChunkRef } from '../../src/domain/chunks.js';
import type { DomainError, DomainErrorCode } from '../../src/domain/errors.js';
import type { ChunkHash, DeviceId, IsoTimestamp, NodeId, UserId, VersionId, WorkspaceId } from '../../src/domain/ids.js';
import type { CommandMetadata, CommandOf, WorkspaceCommand } from '../../src/domain/workspace/commands.js';
import { decide } from '../../src/domain/workspace/decide.js';
import type { EventOf, NodeKind, WorkspaceEvent } from '../../src/domain/workspace/events.js';
import { evolve } from '../../src/domain/workspace/evolve.js';
import { invariantViolations } from '../../src/domain/workspace/invariants.js';
import { initialState, type WorkspaceState } from '../../src/domain/workspace/state.js';

// ---- given / when / then ---------------------------------------------------------------------

export interface Decider<S, C, Ev> {
  decide(command: C, state: S): E.Either<DomainError, Ev[]>;
  evolve(state: S, event: Ev): S;
  initialState(): S;
  /** Optional: what must hold in every state; checked before and after each specification. */
  invariants?(state: S): string[];
}

/** Emmett's DeciderSpecification, for a decider that answers with Either<DomainError, events>. */
export const DeciderSpecification = {
  for: <S, C, Ev>(decider: Decider<S, C, Ev>) => ({
    given: (events: Ev | readonly Ev[]) => ({
      when: (command: C) => {
        const state = (Array.isArray(events) ? (events as readonly Ev[]) : [events as Ev]).reduce(decider.evolve, decider.initialState());
        expect(decider.invariants?.(state) ?? [], 'the given events break an invariant').toEqual([]);
        const decided = () => decider.decide(command, state);
        return {
          then: (expected: readonly Ev[]): void => {
            const result = decided();
            if (E.isLeft(result)) expect.fail(`expected events, got ${result.left.code}: ${result.left.message}`);
            expect(result.right).toEqual(expected);
            const after = result.right.reduce(decider.evolve, state);
            expect(decider.invariants?.(after) ?? [], 'the decided events break an invariant').toEqual([]);
          },
          /** details, when given, must be contained in the error's details. */
          thenFails: (code: DomainErrorCode, details?: Record<string, unknown>): void => {
            const result = decided();
            if (E.isRight(result)) expect.fail(`expected ${code}, got events ${JSON.stringify(result.right)}`);
            expect(result.left.code, result.left.message).toBe(code);
            if (details !== undefined) expect(result.left.details).toMatchObject(details);
          },
        };
      },
    }),
  }),
};

export const spec = DeciderSpecification.for<WorkspaceState, WorkspaceCommand, WorkspaceEvent>({
  decide,
  evolve,
  initialState,
  invariants: invariantViolations,
});

// ---- ids, time, hashes -------------------------------------------------------------------------

export const n = (i: number | string): NodeId => `n${i}` as NodeId;
export const v = (i: number | string): VersionId => `v${i}` as VersionId;
export const WS = 'w1' as WorkspaceId;
export const ROOT = 'root' as NodeId;
export const USER = 'u1' as UserId;
export const DEVICE = 'd1' as DeviceId;

/** The fixed clock every command reads, and a moment before it (a device's own modifiedAt). */
export const NOW = '2026-03-01T12:00:00.000Z' as IsoTimestamp;
export const EARLIER = '2026-02-28T09:30:00.000Z' as IsoTimestamp;

/** A valid chunk hash (64 lowercase hex), the same for the same seed: FNV-1a under 8 salts. */
export const hash = (seed: string | number): ChunkHash => {
  const text = String(seed);
  let hex = '';
  for (let salt = 0; salt < 8; salt++) {
    let h = 0x811c9dc5 ^ salt;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  return hex as ChunkHash;
};

export interface Content {
  readonly chunks: ChunkRef[];
  readonly size: number;
  readonly contentHash: ChunkHash;
}

/** Bytes of a version: one chunk per size, hashes derived from seed. content('a') is an empty file. */
export const content = (seed: string, ...chunkSizes: number[]): Content => ({
  chunks: chunkSizes.map((size, i) => ({ hash: hash(`${seed}/${i}`), size }) as ChunkRef),
  size: chunkSizes.reduce((a, b) => a + b, 0),
  contentHash: hash(seed),
});

export const meta = (overrides: Partial<CommandMetadata> = {}): CommandMetadata => ({ now: NOW, userId: USER, deviceId: DEVICE, ...overrides });

// ---- commands ----------------------------------------------------------------------------------

const cmd = <T extends WorkspaceCommand['type']>(type: T, data: CommandOf<T>['data']): CommandOf<T> =>
  ({ type, workspaceId: WS, data, metadata: meta() }) as CommandOf<T>;

interface NewFile {
  fileId: NodeId;
  versionId: VersionId;
  name: string;
  content: Content;
  parentId?: NodeId;
  modifiedAt?: IsoTimestamp | null;
}
interface NewVersion {
  fileId: NodeId;
  versionId: VersionId;
  baseVersionId: VersionId | null;
  content: Content;
  /** Where the device believed the file was; decide records the version wherever the file is now. */
  parentId?: NodeId;
  name?: string;
  modifiedAt?: IsoTimestamp | null;
}

export const command = {
  createWorkspace: (quotaBytes = 1000, rootId = ROOT) => cmd('CreateWorkspace', { rootId, ownerId: USER, quotaBytes } as CommandOf<'CreateWorkspace'>['data']),
  createFolder: (nodeId: NodeId, name: string, parentId: NodeId = ROOT) => cmd('CreateFolder', { nodeId, parentId, name }),
  commitNewFile: (f: NewFile) =>
    cmd('CommitFileVersion', {
      fileId: f.fileId,
      newFile: true,
      parentId: f.parentId ?? ROOT,
      name: f.name,
      versionId: f.versionId,
      baseVersionId: null,
      ...f.content,
      modifiedAt: f.modifiedAt ?? null,
    } as CommandOf<'CommitFileVersion'>['data']),
  commitVersion: (f: NewVersion) =>
    cmd('CommitFileVersion', {
      fileId: f.fileId,
      newFile: false,
      parentId: f.parentId ?? ROOT,
      name: f.name ?? 'ignored.txt',
      versionId: f.versionId,
      baseVersionId: f.baseVersionId,
      ...f.content,
      modifiedAt: f.modifiedAt ?? null,
    } as CommandOf<'CommitFileVersion'>['data']),
  move: (nodeId: NodeId, parentId: NodeId, name: string) => cmd('MoveNode', { nodeId, parentId, name }),
  delete: (nodeId: NodeId) => cmd('DeleteNode', { nodeId }),
  undelete: (nodeId: NodeId, to: { parentId?: NodeId; name?: string } = {}) =>
    cmd('UndeleteNode', { nodeId, parentId: to.parentId ?? null, name: to.name ?? null }),
  restoreVersion: (fileId: NodeId, fromVersionId: VersionId, versionId: VersionId) => cmd('RestoreVersion', { fileId, fromVersionId, versionId }),
  purge: (nodeId: NodeId, versionIds: VersionId[] | null = null) => cmd('PurgeNode', { nodeId, versionIds }),
};

// ---- events ------------------------------------------------------------------------------------

const ev = <T extends WorkspaceEvent['type']>(type: T, data: EventOf<T>['data']): EventOf<T> => ({ type, data }) as EventOf<T>;

export const event = {
  workspaceCreated: (quotaBytes = 1000, rootId = ROOT) =>
    ev('WorkspaceCreated', { workspaceId: WS, rootId, ownerId: USER, quotaBytes } as EventOf<'WorkspaceCreated'>['data']),
  folderCreated: (nodeId: NodeId, name: string, parentId: NodeId = ROOT) => ev('FolderCreated', { nodeId, parentId, name }),
  fileCreated: (f: NewFile) =>
    ev('FileVersionCommitted', {
      nodeId: f.fileId,
      parentId: f.parentId ?? ROOT,
      name: f.name,
      versionId: f.versionId,
      ...f.content,
      modifiedAt: f.modifiedAt ?? NOW,
      baseVersionId: null,
      created: true,
    } as EventOf<'FileVersionCommitted'>['data']),
  versionCommitted: (f: NewVersion & { name: string }) =>
    ev('FileVersionCommitted', {
      nodeId: f.fileId,
      parentId: f.parentId ?? ROOT,
      name: f.name,
      versionId: f.versionId,
      ...f.content,
      modifiedAt: f.modifiedAt ?? NOW,
      baseVersionId: f.baseVersionId,
      created: false,
    } as EventOf<'FileVersionCommitted'>['data']),
  versionRestored: (f: { fileId: NodeId; name: string; parentId?: NodeId; versionId: VersionId; from: VersionId; content: Content }) =>
    ev('VersionRestored', {
      nodeId: f.fileId,
      parentId: f.parentId ?? ROOT,
      name: f.name,
      versionId: f.versionId,
      ...f.content,
      modifiedAt: NOW,
      restoredFromVersionId: f.from,
    } as EventOf<'VersionRestored'>['data']),
  nodeMoved: (nodeId: NodeId, kind: NodeKind, from: { parentId: NodeId; name: string }, to: { parentId: NodeId; name: string }) =>
    ev('NodeMoved', { nodeId, kind, fromParentId: from.parentId, fromName: from.name, parentId: to.parentId, name: to.name }),
  nodeDeleted: (nodeId: NodeId, kind: NodeKind, name: string, parentId: NodeId = ROOT) => ev('NodeDeleted', { nodeId, kind, parentId, name }),
  nodeRestored: (nodeId: NodeId, kind: NodeKind, name: string, parentId: NodeId = ROOT) => ev('NodeRestored', { nodeId, kind, parentId, name }),
  nodePurged: (nodeId: NodeId) => ev('NodePurged', { nodeId, scope: 'node', versionIds: [] }),
  versionsPurged: (nodeId: NodeId, versionIds: VersionId[]) => ev('NodePurged', { nodeId, scope: 'versions', versionIds }),
};
