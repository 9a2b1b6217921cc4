import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import type { ChunkHash, NodeId, NonNegativeInt, VersionId, WorkspaceId } from '../../domain/ids.js';
import { nameKey } from '../../domain/names.js';
import type { WorkspaceCommand } from '../../domain/workspace/commands.js';
import { nameStemKey } from '../../domain/workspace/decide/tree.js';
import type { NodeView, VersionView, WorkspaceState } from '../../domain/workspace/state.js';

/** What one command's rules look at, beyond the workspace row. */
interface Needs {
  readonly nodeIds: readonly string[];
  /** Load this node and all its ancestors (the cycle rule of a move). */
  readonly ancestorsOf: string | null;
  /** Live children of these parents whose name key is one of keys or starts with prefix. */
  readonly siblings: { parents: readonly string[]; keys: readonly string[]; prefix: string | null } | null;
  readonly versions: { nodeId: string; versionIds: readonly string[] } | null;
}

const needsOf = (c: WorkspaceCommand): Needs => {
  const none: Needs = { nodeIds: [], ancestorsOf: null, siblings: null, versions: null };
  switch (c.type) {
    case 'CreateWorkspace':
      return none;
    case 'CreateFolder':
      return { ...none, nodeIds: [c.data.nodeId, c.data.parentId], siblings: { parents: [c.data.parentId], keys: [nameKey(c.data.name)], prefix: null } };
    case 'CommitFileVersion':
      return { ...none, nodeIds: [c.data.fileId, c.data.parentId], siblings: { parents: [c.data.parentId], keys: [nameKey(c.data.name)], prefix: null } };
    case 'MoveNode':
      return {
        ...none,
        nodeIds: [c.data.nodeId],
        ancestorsOf: c.data.parentId,
        siblings: { parents: [c.data.parentId], keys: [nameKey(c.data.name)], prefix: null },
      };
    case 'DeleteNode':
      return { ...none, nodeIds: [c.data.nodeId] };
    case 'UndeleteNode':
      // Siblings depend on the node's old place and name: loaded in a second step.
      return { ...none, nodeIds: [c.data.nodeId, ...(c.data.parentId === null ? [] : [c.data.parentId])] };
    case 'RestoreVersion':
      return { ...none, nodeIds: [c.data.fileId], versions: { nodeId: c.data.fileId, versionIds: [c.data.fromVersionId] } };
    case 'PurgeNode':
      return { ...none, nodeIds: [c.data.nodeId], versions: c.data.versionIds === null ? null : { nodeId: c.data.nodeId, versionIds: c.data.versionIds } };
    default: {
      const _exhaustive: never = c;
      return _exhaustive;
    }
  }
};

interface NodeRow {
  node_id: string;
  kind: 'file' | 'folder';
  parent_id: string | null;
  name: string;
  trashed_by: string | null;
  purged: boolean;
  latest_version_id: string | null;
  size: string;
}

const COLUMNS = 'node_id, kind, parent_id, name, trashed_by, purged, latest_version_id, size';
const LIVE = 'trashed_by IS NULL AND NOT purged';

const nodesSql = (s: string) => `
  WITH RECURSIVE anc AS (
    SELECT node_id, parent_id, 0 AS depth FROM ${s}.nodes WHERE workspace_id = $1 AND node_id = $3
    UNION ALL
    SELECT n.node_id, n.parent_id, anc.depth + 1 FROM ${s}.nodes n JOIN anc ON n.workspace_id = $1 AND n.node_id = anc.parent_id
    WHERE anc.depth < 10000
  )
  SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = $1 AND node_id = ANY($2::text[])
  UNION SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = $1 AND node_id IN (SELECT node_id FROM anc)
  UNION SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = $1 AND parent_id = ANY($4::text[]) AND ${LIVE} AND name_key = ANY($5::text[])
  UNION SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = $1 AND parent_id = ANY($4::text[]) AND ${LIVE}
    AND $6::text IS NOT NULL AND starts_with(name_key, $6::text)`;

const loadNodes = async (client: pg.ClientBase, s: string, ws: string, needs: Needs): Promise<NodeRow[]> =>
  (
    await client.query<NodeRow>(nodesSql(s), [
      ws,
      needs.nodeIds,
      needs.ancestorsOf,
      needs.siblings?.parents ?? [],
      needs.siblings?.keys ?? [],
      needs.siblings?.prefix ?? null,
    ])
  ).rows;

const loadVersions = async (client: pg.ClientBase, s: string, ws: string, needs: Needs): Promise<Map<string, VersionView>> => {
  const out = new Map<string, VersionView>();
  if (needs.versions === null || needs.versions.versionIds.length === 0) return out;
  const { rows } = await client.query<{ version_id: string; size: string; content_hash: string; chunks: ChunkRef[]; purged: boolean }>(
    `SELECT version_id, size, content_hash, chunks, purged_at IS NOT NULL AS purged FROM ${s}.versions
     WHERE workspace_id = $1 AND node_id = $2 AND version_id = ANY($3::text[])`,
    [ws, needs.versions.nodeId, needs.versions.versionIds],
  );
  for (const r of rows)
    out.set(r.version_id, {
      versionId: r.version_id as VersionId,
      size: Number(r.size) as NonNegativeInt,
      contentHash: r.content_hash as ChunkHash,
      chunks: r.chunks,
      purged: r.purged,
    });
  return out;
};

const toView = (r: NodeRow, versions: ReadonlyMap<string, VersionView>, versionsOf: string | null): NodeView => ({
  nodeId: r.node_id as NodeId,
  kind: r.kind,
  parentId: r.parent_id as NodeId | null,
  name: r.name,
  trashedBy: r.trashed_by as NodeId | null,
  purged: r.purged,
  latestVersionId: r.latest_version_id as VersionId | null,
  size: Number(r.size),
  versions: r.node_id === versionsOf ? (versions as ReadonlyMap<VersionId, VersionView>) : new Map(),
});

export interface DecisionState {
  readonly state: WorkspaceState;
  /** The stream version the state reflects: the append's expected version. */
  readonly version: number;
}

/**
 * Loads, inside the caller's transaction, the part of the workspace that decide reads for this
 * command, and locks the workspace stream so the state cannot move until the transaction ends.
 * The result means the same as the fully folded state for this command (a property test holds
 * the two to the same decisions).
 */
export const loadDecisionState = async (
  client: pg.ClientBase,
  schema: string,
  streamId: string,
  command: WorkspaceCommand,
): Promise<DecisionState> => {
  const ws = command.workspaceId;
  const head = await client.query<{ version: string; root_id: string | null; quota_bytes: string; used_bytes: string }>(
    `SELECT s.version, w.root_id, w.quota_bytes, w.used_bytes
     FROM es_streams s LEFT JOIN ${schema}.workspaces w ON w.workspace_id = $2
     WHERE s.stream_id = $1 FOR NO KEY UPDATE OF s`,
    [streamId, ws],
  );
  const row = head.rows[0];
  if (row === undefined || row.root_id === null) return { state: { status: 'absent' }, version: row ? Number(row.version) : 0 };
  const rootId = row.root_id;
  const needs = needsOf(command);
  const rows = await loadNodes(client, schema, ws, needs);
  if (command.type === 'UndeleteNode') {
    const node = rows.find((r) => r.node_id === command.data.nodeId);
    if (node !== undefined) {
      const parents = [command.data.parentId, node.parent_id, rootId].filter((p): p is string => p !== null);
      const siblings =
        command.data.name !== null
          ? { parents, keys: [nameKey(command.data.name)], prefix: null }
          : { parents, keys: [nameKey(node.name)], prefix: nameStemKey(node.name) };
      rows.push(...(await loadNodes(client, schema, ws, { nodeIds: [...parents], ancestorsOf: null, siblings, versions: null })));
    }
  }
  const versions = await loadVersions(client, schema, ws, needs);
  const nodes = new Map<NodeId, NodeView>();
  for (const r of rows) nodes.set(r.node_id as NodeId, toView(r, versions, needs.versions?.nodeId ?? null));
  return {
    version: Number(row.version),
    state: {
      status: 'open',
      workspaceId: ws as WorkspaceId,
      rootId: rootId as NodeId,
      quotaBytes: Number(row.quota_bytes),
      usedBytes: Number(row.used_bytes),
      nodes,
    },
  };
};
