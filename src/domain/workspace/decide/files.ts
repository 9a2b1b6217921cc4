import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { domainError } from '../../errors.js';
import type { CommandOf } from '../commands.js';
import type { WorkspaceEvent } from '../events.js';
import type { NodeView, OpenWorkspace, WorkspaceState } from '../state.js';
import { consistentChunks, freeName, liveFile, liveFolder, open, unusedId, validName, withinQuota, type Decision } from './guards.js';

type Commit = CommandOf<'CommitFileVersion'>;

const commitNewFile = (c: Commit, ws: OpenWorkspace): Decision<WorkspaceEvent[]> =>
  pipe(
    unusedId(ws, c.data.fileId),
    E.chain(() => validName(c.data.name)),
    E.chain(() => liveFolder(ws, c.data.parentId)),
    E.chain(() => freeName(ws, c.data.parentId, c.data.name)),
    E.chain(() => withinQuota(ws, c.data.size)),
    E.map((): WorkspaceEvent[] => [
      {
        type: 'FileVersionCommitted',
        data: {
          nodeId: c.data.fileId,
          parentId: c.data.parentId,
          name: c.data.name,
          versionId: c.data.versionId,
          size: c.data.size,
          contentHash: c.data.contentHash,
          chunks: c.data.chunks,
          modifiedAt: c.data.modifiedAt ?? c.metadata.now,
          baseVersionId: null,
          created: true,
        },
      },
    ]),
  );

const fromLatest = (file: NodeView, baseVersionId: Commit['data']['baseVersionId']): Decision<NodeView> =>
  baseVersionId !== null && baseVersionId === file.latestVersionId
    ? E.right(file)
    : E.left(
        domainError('version_conflict', 'The file changed since the version this edit was based on.', {
          latestVersionId: file.latestVersionId,
          baseVersionId,
        }),
      );

// The version goes to the file wherever it lives now: an edit follows the file through a remote move.
const commitNewVersion = (c: Commit, ws: OpenWorkspace): Decision<WorkspaceEvent[]> =>
  pipe(
    liveFile(ws, c.data.fileId),
    E.chain((file) => fromLatest(file, c.data.baseVersionId)),
    E.chainFirst((file) => withinQuota(ws, c.data.size - file.size)),
    E.map((file): WorkspaceEvent[] => [
      {
        type: 'FileVersionCommitted',
        data: {
          nodeId: file.nodeId,
          parentId: file.parentId ?? ws.rootId,
          name: file.name,
          versionId: c.data.versionId,
          size: c.data.size,
          contentHash: c.data.contentHash,
          chunks: c.data.chunks,
          modifiedAt: c.data.modifiedAt ?? c.metadata.now,
          baseVersionId: c.data.baseVersionId,
          created: false,
        },
      },
    ]),
  );

export const commitFileVersion = (c: Commit, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    open(state),
    E.chainFirst(() => consistentChunks(c.data.chunks, c.data.size)),
    E.chain((ws) => (c.data.newFile ? commitNewFile(c, ws) : commitNewVersion(c, ws))),
  );

export const restoreVersion = (c: CommandOf<'RestoreVersion'>, state: WorkspaceState): Decision<WorkspaceEvent[]> =>
  pipe(
    E.Do,
    E.bind('ws', () => open(state)),
    E.bind('file', ({ ws }) => liveFile(ws, c.data.fileId)),
    E.bind('version', ({ file }) => {
      const v = file.versions.get(c.data.fromVersionId);
      if (v === undefined) return E.left(domainError('not_found', 'No such version.', { versionId: c.data.fromVersionId }));
      return v.purged ? E.left(domainError('gone', "That version's content was purged.", { versionId: v.versionId })) : E.right(v);
    }),
    E.chainFirst(({ ws, file, version }) => withinQuota(ws, version.size - file.size)),
    E.map(({ ws, file, version }): WorkspaceEvent[] => [
      {
        type: 'VersionRestored',
        data: {
          nodeId: file.nodeId,
          parentId: file.parentId ?? ws.rootId,
          name: file.name,
          versionId: c.data.versionId,
          size: version.size,
          contentHash: version.contentHash,
          chunks: [...version.chunks],
          modifiedAt: c.metadata.now,
          restoredFromVersionId: version.versionId,
        },
      },
    ]),
  );
