import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import type { ChunkHash, NodeId, VersionId, WorkspaceId } from '../../domain/ids.js';
import { ApiError } from '../http/errors.js';

/** What the transfer routes read from the tree projection, each answer already an API outcome. */
export interface Catalog {
  /** The workspace's quota; 404 when parentId is not a live node of it, 400 when it is not a folder. */
  uploadTarget(workspaceId: WorkspaceId, parentId: NodeId): Promise<{ quotaBytes: number }>;
  /** The version to download (the latest when versionId is absent); 404 unknown, 410 purged. */
  downloadable(workspaceId: WorkspaceId, fileId: NodeId, versionId: VersionId | undefined): Promise<DownloadableVersion>;
}

export interface DownloadableVersion {
  readonly versionId: VersionId;
  readonly size: number;
  readonly contentHash: ChunkHash;
  readonly chunks: readonly ChunkRef[];
}

interface TargetRow {
  quota_bytes: string;
  kind: 'file' | 'folder' | null;
  live: boolean | null;
}

interface VersionRow {
  kind: 'file' | 'folder';
  node_purged: boolean;
  version_id: VersionId | null;
  size: string | null;
  content_hash: ChunkHash | null;
  chunks: ChunkRef[] | null;
  purged: boolean | null;
}

const noSuchFile = (): ApiError => new ApiError('not_found', 'No such file.');

export const createCatalog = (pool: pg.Pool): Catalog => ({
  uploadTarget: async (workspaceId, parentId) => {
    const { rows } = await pool.query<TargetRow>({
      name: 'transfers_upload_target',
      text: `SELECT w.quota_bytes, n.kind, n.trashed_by IS NULL AND NOT n.purged AS live
             FROM rm.workspaces w LEFT JOIN rm.nodes n ON n.workspace_id = w.workspace_id AND n.node_id = $2
             WHERE w.workspace_id = $1`,
      values: [workspaceId, parentId],
    });
    const row = rows[0];
    if (row === undefined) throw new ApiError('not_found', 'No such workspace.');
    if (row.kind === null || row.live !== true) throw new ApiError('not_found', 'No such folder.', { field: 'body.parentId', nodeId: parentId });
    if (row.kind !== 'folder')
      throw new ApiError('invalid_request', 'The parent is not a folder.', { field: 'body.parentId', reason: 'not_a_folder', nodeId: parentId });
    return { quotaBytes: Number(row.quota_bytes) };
  },

  downloadable: async (workspaceId, fileId, versionId) => {
    // A trashed file can still be downloaded (its bytes are kept until purged); a purged one is gone.
    const { rows } = await pool.query<VersionRow>({
      name: versionId === undefined ? 'transfers_latest_version' : 'transfers_given_version',
      text: `SELECT n.kind, n.purged AS node_purged, v.version_id, v.size, v.content_hash, v.chunks, v.purged_at IS NOT NULL AS purged
             FROM rm.nodes n LEFT JOIN rm.versions v
               ON v.workspace_id = n.workspace_id AND v.node_id = n.node_id
              AND v.version_id = ${versionId === undefined ? 'n.latest_version_id' : '$3'}
             WHERE n.workspace_id = $1 AND n.node_id = $2`,
      values: versionId === undefined ? [workspaceId, fileId] : [workspaceId, fileId, versionId],
    });
    const row = rows[0];
    if (row === undefined || row.kind !== 'file') throw noSuchFile();
    if (row.version_id === null) {
      if (versionId !== undefined) throw new ApiError('not_found', 'No such version of this file.', { versionId });
      throw noSuchFile();
    }
    if (row.purged === true || row.node_purged)
      throw new ApiError('gone', "This version's content was purged.", { versionId: row.version_id });
    return {
      versionId: row.version_id,
      size: Number(row.size),
      contentHash: row.content_hash as ChunkHash,
      chunks: row.chunks ?? [],
    };
  },
});
