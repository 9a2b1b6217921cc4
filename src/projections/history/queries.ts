import type pg from 'pg';

type Queryable = pg.Pool | pg.ClientBase;

export interface VersionRecord {
  readonly versionId: string;
  readonly size: number;
  readonly contentHash: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
  readonly deviceId: string | null;
  readonly userId: string;
  readonly restoredFrom: string | null;
  readonly purged: boolean;
}

/**
 * The versions of a file of the workspace, newest first; null when there is no such file (unknown,
 * a folder, another workspace's, or purged with its trash). A trashed file still has its history.
 */
export const fileVersions = async (db: Queryable, workspaceId: string, fileId: string): Promise<VersionRecord[] | null> => {
  const { rows } = await db.query<{
    kind: string; node_purged: boolean; version_id: string | null; size: string; content_hash: string; created_at: Date; modified_at: Date;
    device_id: string | null; user_id: string; restored_from: string | null; purged: boolean;
  }>({
    name: 'history_versions',
    text: `SELECT n.kind, n.purged AS node_purged, v.version_id, v.size, v.content_hash, v.created_at, v.modified_at, v.device_id, v.user_id,
                  v.restored_from, v.purged_at IS NOT NULL AS purged
           FROM rm.nodes n LEFT JOIN rm.versions v ON v.workspace_id = n.workspace_id AND v.node_id = n.node_id
           WHERE n.workspace_id = $1 AND n.node_id = $2
           ORDER BY v.seq DESC`,
    values: [workspaceId, fileId],
  });
  const first = rows[0];
  if (first === undefined || first.kind !== 'file' || first.node_purged) return null;
  return rows
    .filter((r) => r.version_id !== null)
    .map((r) => ({
      versionId: r.version_id as string,
      size: Number(r.size),
      contentHash: r.content_hash,
      createdAt: r.created_at.toISOString(),
      modifiedAt: r.modified_at.toISOString(),
      deviceId: r.device_id,
      userId: r.user_id,
      restoredFrom: r.restored_from,
      purged: r.purged,
    }));
};

export interface TrashRecord {
  readonly nodeId: string;
  readonly kind: 'file' | 'folder';
  readonly parentId: string;
  readonly name: string;
  readonly path: string;
  readonly deletedAt: Date;
  readonly deviceId: string | null;
}

/** What the workspace's trash holds: the nodes deleted directly (what went with them is inside), most recent first. */
export const trashItems = async (db: Queryable, workspaceId: string): Promise<TrashRecord[]> => {
  const { rows } = await db.query<{ node_id: string; kind: 'file' | 'folder'; parent_id: string; name: string; path: string; deleted_at: Date; device_id: string | null }>({
    name: 'history_trash',
    text: `SELECT node_id, kind, parent_id, name, path, deleted_at, device_id FROM rm.trash WHERE workspace_id = $1 ORDER BY deleted_at DESC, node_id`,
    values: [workspaceId],
  });
  return rows.map((r) => ({ nodeId: r.node_id, kind: r.kind, parentId: r.parent_id, name: r.name, path: r.path, deletedAt: r.deleted_at, deviceId: r.device_id }));
};
