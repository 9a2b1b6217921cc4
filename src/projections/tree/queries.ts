import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import { nameKey } from '../../domain/names.js';

type Queryable = pg.Pool | pg.ClientBase;

export interface WorkspaceRow {
  readonly workspaceId: string;
  readonly rootId: string;
  readonly ownerId: string;
  readonly cursor: number;
  readonly usedBytes: number;
  readonly quotaBytes: number;
}

/** A live node as the API shows it; files carry their latest version. */
export interface NodeRecord {
  readonly nodeId: string;
  readonly kind: 'file' | 'folder';
  readonly parentId: string | null;
  readonly name: string;
  readonly path: string;
  readonly modifiedAt: string;
  readonly file: { readonly size: number; readonly versionId: string; readonly contentHash: string; readonly chunks: readonly ChunkRef[] } | null;
}

export const workspaceRow = async (db: Queryable, workspaceId: string): Promise<WorkspaceRow | null> => {
  const { rows } = await db.query({
    name: 'q_workspace',
    text: 'SELECT workspace_id, root_id, owner_id, cursor, used_bytes, quota_bytes FROM rm.workspaces WHERE workspace_id = $1',
    values: [workspaceId],
  });
  const r = rows[0];
  return r
    ? { workspaceId: r.workspace_id, rootId: r.root_id, ownerId: r.owner_id, cursor: Number(r.cursor), usedBytes: Number(r.used_bytes), quotaBytes: Number(r.quota_bytes) }
    : null;
};

const NODE_COLUMNS = `n.node_id, n.kind, n.parent_id, n.name, n.modified_at, n.size, n.latest_version_id, n.content_hash,
  CASE WHEN n.kind = 'file' THEN (SELECT v.chunks FROM rm.versions v WHERE v.workspace_id = n.workspace_id AND v.version_id = n.latest_version_id) END AS chunks`;

interface NodeRowOut {
  node_id: string;
  kind: 'file' | 'folder';
  parent_id: string | null;
  name: string;
  modified_at: Date;
  size: string;
  latest_version_id: string | null;
  content_hash: string | null;
  chunks: ChunkRef[] | null;
}

const toRecord = (r: NodeRowOut, path: string): NodeRecord => ({
  nodeId: r.node_id,
  kind: r.kind,
  parentId: r.parent_id,
  name: r.name,
  path,
  modifiedAt: r.modified_at.toISOString(),
  file:
    r.kind === 'file'
      ? { size: Number(r.size), versionId: r.latest_version_id ?? '', contentHash: r.content_hash ?? '', chunks: r.chunks ?? [] }
      : null,
});

const joinPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/** The path of a node from the root, walking parent links ("/" for the root). */
export const pathOf = async (db: Queryable, workspaceId: string, nodeId: string): Promise<string> => {
  const { rows } = await db.query<{ names: string[] }>({
    name: 'q_path',
    text: `WITH RECURSIVE up AS (
             SELECT node_id, parent_id, name, 0 AS depth FROM rm.nodes WHERE workspace_id = $1 AND node_id = $2
             UNION ALL
             SELECT n.node_id, n.parent_id, n.name, up.depth + 1 FROM rm.nodes n JOIN up ON n.workspace_id = $1 AND n.node_id = up.parent_id
             WHERE up.depth < 10000)
           SELECT array_agg(name ORDER BY depth DESC) FILTER (WHERE parent_id IS NOT NULL) AS names FROM up`,
    values: [workspaceId, nodeId],
  });
  const names = rows[0]?.names ?? [];
  return names.reduce(joinPath, '/');
};

/** A live node of the workspace, or null (unknown, trashed, purged, or another workspace's). */
export const liveNode = async (db: Queryable, workspaceId: string, nodeId: string): Promise<NodeRecord | null> => {
  const { rows } = await db.query<NodeRowOut>({
    name: 'q_live_node',
    text: `SELECT ${NODE_COLUMNS} FROM rm.nodes n WHERE n.workspace_id = $1 AND n.node_id = $2 AND n.trashed_by IS NULL AND NOT n.purged`,
    values: [workspaceId, nodeId],
  });
  const r = rows[0];
  return r ? toRecord(r, await pathOf(db, workspaceId, nodeId)) : null;
};

/** Splits "/a/b.txt" into its names; null when it is not an absolute path of valid segments. */
export const pathSegments = (path: string): string[] | null => {
  if (!path.startsWith('/')) return null;
  const segments = path.split('/').filter((s) => s !== '');
  return segments.some((s) => s === '.' || s === '..') ? null : segments;
};

/** The live node at a path, compared segment by segment under NFC and case folding. */
export const nodeAtPath = async (db: Queryable, workspaceId: string, rootId: string, segments: readonly string[]): Promise<NodeRecord | null> => {
  if (segments.length === 0) return liveNode(db, workspaceId, rootId);
  const { rows } = await db.query<{ node_id: string }>({
    name: 'q_walk_path',
    text: `WITH RECURSIVE walk AS (
             SELECT $2::text AS node_id, 0 AS depth
             UNION ALL
             SELECT n.node_id, walk.depth + 1 FROM walk JOIN rm.nodes n
               ON n.workspace_id = $1 AND n.parent_id = walk.node_id AND n.name_key = ($3::text[])[walk.depth + 1]
               AND n.trashed_by IS NULL AND NOT n.purged
             WHERE walk.depth < cardinality($3::text[]))
           SELECT node_id FROM walk WHERE depth = cardinality($3::text[])`,
    values: [workspaceId, rootId, segments.map(nameKey)],
  });
  const found = rows[0];
  return found ? liveNode(db, workspaceId, found.node_id) : null;
};

/** One page of a folder's live children, ordered by their folded name; `after` is the last key of the previous page. */
export const childrenPage = async (
  db: Queryable,
  workspaceId: string,
  folder: NodeRecord,
  limit: number,
  after: string | null,
): Promise<{ items: NodeRecord[]; nextAfter: string | null }> => {
  const { rows } = await db.query<NodeRowOut & { name_key: string }>({
    name: 'q_children',
    text: `SELECT ${NODE_COLUMNS}, n.name_key FROM rm.nodes n
           WHERE n.workspace_id = $1 AND n.parent_id = $2 AND n.trashed_by IS NULL AND NOT n.purged
             AND ($3::text IS NULL OR n.name_key > $3::text)
           ORDER BY n.name_key LIMIT $4`,
    values: [workspaceId, folder.nodeId, after, limit + 1],
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => toRecord(r, joinPath(folder.path, r.name))),
    nextAfter: rows.length > limit && last ? last.name_key : null,
  };
};
