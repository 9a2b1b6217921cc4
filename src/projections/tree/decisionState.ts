import type pg from 'pg';
import type { ChunkRef } from '../../domain/chunks.js';
import type { ChunkHash, NodeId, NonNegativeInt, VersionId, WorkspaceId } from '../../domain/ids.js';
import { nameKey, nameProblem } from '../../domain/names.js';
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
  /**
   * Live children named by exact (parent, key) pairs, zipped: what a batch of commands looks at, each
   * its own parent and name. (The parents x keys of siblings would be a cross product: a batch of
   * 500 files over 100 folders made Postgres probe the index 50,000 times.)
   */
  readonly namedChildren?: { readonly parents: readonly string[]; readonly keys: readonly string[] };
  readonly versions: { nodeId: string; versionIds: readonly string[] } | null;
  /** Load what went to the trash with this trash root (an undelete must fit their bytes in the quota). */
  readonly trashedWith: string | null;
}

// An invalid name cannot collide with anything (decide refuses it), and may hold bytes Postgres
// refuses in text (NUL): look for no siblings then.
const siblingsNamed = (parentId: string, name: string): Needs['siblings'] =>
  nameProblem(name) === null ? { parents: [parentId], keys: [nameKey(name)], prefix: null } : null;

const needsOf = (c: WorkspaceCommand): Needs => {
  const none: Needs = { nodeIds: [], ancestorsOf: null, siblings: null, versions: null, trashedWith: null };
  switch (c.type) {
    case 'CreateWorkspace':
      return none;
    case 'CreateFolder':
      return { ...none, nodeIds: [c.data.nodeId, c.data.parentId], siblings: siblingsNamed(c.data.parentId, c.data.name) };
    case 'CommitFileVersion':
      return { ...none, nodeIds: [c.data.fileId, c.data.parentId], siblings: siblingsNamed(c.data.parentId, c.data.name) };
    case 'MoveNode':
      return {
        ...none,
        nodeIds: [c.data.nodeId],
        ancestorsOf: c.data.parentId,
        siblings: siblingsNamed(c.data.parentId, c.data.name),
      };
    case 'DeleteNode':
      return { ...none, nodeIds: [c.data.nodeId] };
    case 'UndeleteNode':
      // Siblings depend on the node's old place and name: loaded in a second step.
      return { ...none, nodeIds: [c.data.nodeId, ...(c.data.parentId === null ? [] : [c.data.parentId])], trashedWith: c.data.nodeId };
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
const COLUMNS_OF_N = COLUMNS.split(', ').map((c) => `n.${c}`).join(', ');
const LIVE_N = 'n.trashed_by IS NULL AND NOT n.purged';

// Only the branches a command needs, so each shape is a small statement with its own cached plan.
const nodesStatement = (s: string, needs: Needs): { name: string; text: string; values: unknown[] } => {
  const values: unknown[] = [];
  const param = (v: unknown, type: string) => {
    values.push(v);
    return `$${values.length}::${type}`;
  };
  const ws = param('', 'text'); // the workspace id, filled in by the caller
  const branches: string[] = [];
  const shape: string[] = [];
  let prefix = '';
  if (needs.nodeIds.length > 0) {
    branches.push(`SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = ${ws} AND node_id = ANY(${param(needs.nodeIds, 'text[]')})`);
    shape.push('ids');
  }
  if (needs.ancestorsOf !== null) {
    const start = param(needs.ancestorsOf, 'text');
    prefix = `WITH RECURSIVE anc AS (
      SELECT node_id, parent_id, 0 AS depth FROM ${s}.nodes WHERE workspace_id = ${ws} AND node_id = ${start}
      UNION ALL
      SELECT n.node_id, n.parent_id, anc.depth + 1 FROM ${s}.nodes n JOIN anc ON n.workspace_id = ${ws} AND n.node_id = anc.parent_id
      WHERE anc.depth < 10000
    ) `;
    branches.push(`SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = ${ws} AND node_id IN (SELECT node_id FROM anc)`);
    shape.push('anc');
  }
  if (needs.trashedWith !== null) {
    branches.push(`SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = ${ws} AND trashed_by = ${param(needs.trashedWith, 'text')} AND NOT purged`);
    shape.push('trashed');
  }
  if (needs.siblings !== null) {
    const parents = param(needs.siblings.parents, 'text[]');
    branches.push(
      `SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = ${ws} AND parent_id = ANY(${parents}) AND ${LIVE} AND name_key = ANY(${param(needs.siblings.keys, 'text[]')})`,
    );
    shape.push('keys');
    if (needs.siblings.prefix !== null) {
      branches.push(
        `SELECT ${COLUMNS} FROM ${s}.nodes WHERE workspace_id = ${ws} AND parent_id = ANY(${parents}) AND ${LIVE} AND starts_with(name_key, ${param(needs.siblings.prefix, 'text')})`,
      );
      shape.push('prefix');
    }
  }
  if (needs.namedChildren !== undefined && needs.namedChildren.parents.length > 0) {
    const pairs = `unnest(${param(needs.namedChildren.parents, 'text[]')}, ${param(needs.namedChildren.keys, 'text[]')}) AS pair(parent_id, name_key)`;
    branches.push(
      `SELECT ${COLUMNS_OF_N} FROM ${pairs} JOIN ${s}.nodes n ON n.workspace_id = ${ws} AND n.parent_id = pair.parent_id AND n.name_key = pair.name_key WHERE ${LIVE_N}`,
    );
    shape.push('pairs');
  }
  return { name: `decision_nodes_${s}_${shape.join('_')}`, text: prefix + branches.join(' UNION '), values };
};

/**
 * oneShot: planned for these very arrays, not from a plan the connection cached. A batch's arrays
 * hold hundreds of ids, and a cached (generic) plan is chosen blind to their length and to the size
 * the tables had then: one cached while a new workspace's tables were small scans them whole ever
 * after, and cost the 20th batch of a first sync 200 ms under the workspace's lock, not 5.
 */
const loadNodes = async (client: pg.ClientBase, s: string, ws: string, needs: Needs, oneShot = false): Promise<NodeRow[]> => {
  const { name, text, values } = nodesStatement(s, needs);
  if (values.length === 1) return [];
  values[0] = ws;
  return (await client.query<NodeRow>(oneShot ? { text, values } : { name, text, values })).rows;
};

const loadVersions = async (client: pg.ClientBase, s: string, ws: string, needs: Needs): Promise<Map<string, VersionView>> => {
  const out = new Map<string, VersionView>();
  if (needs.versions === null || needs.versions.versionIds.length === 0) return out;
  const { rows } = await client.query<{ version_id: string; size: string; content_hash: string; chunks: ChunkRef[]; purged: boolean }>({
    name: `decision_versions_${s}`,
    text: `SELECT version_id, size, content_hash, chunks, purged_at IS NOT NULL AS purged FROM ${s}.versions
           WHERE workspace_id = $1 AND node_id = $2 AND version_id = ANY($3::text[])`,
    values: [ws, needs.versions.nodeId, needs.versions.versionIds],
  });
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

/** True when a command's needs can be merged with others' into one load (no second step, no walk). */
const mergeable = (c: WorkspaceCommand): boolean => {
  const n = needsOf(c);
  return c.type !== 'UndeleteNode' && n.ancestorsOf === null && n.versions === null && n.trashedWith === null && n.siblings?.prefix == null;
};

/** The union of several commands' needs: a superset of what each reads, so each decides as it would alone. */
const mergedNeeds = (commands: readonly WorkspaceCommand[]): Needs => {
  const nodeIds = new Set<string>();
  // Each command's own parents x keys (one by one for these commands), never the batch's.
  const pairs = new Map<string, { parent: string; key: string }>();
  for (const c of commands) {
    const n = needsOf(c);
    for (const id of n.nodeIds) nodeIds.add(id);
    for (const parent of n.siblings?.parents ?? []) for (const key of n.siblings?.keys ?? []) pairs.set(JSON.stringify([parent, key]), { parent, key });
  }
  return {
    nodeIds: [...nodeIds],
    ancestorsOf: null,
    siblings: null,
    namedChildren: { parents: [...pairs.values()].map((p) => p.parent), keys: [...pairs.values()].map((p) => p.key) },
    versions: null,
    trashedWith: null,
  };
};

/**
 * Like loadDecisionState, for several commands decided one after the other in one unit of work:
 * one load of the union of what they read. The caller folds each accepted command's events into
 * the state (evolve) before deciding the next, so later commands see earlier ones. Only commands
 * whose needs merge (file versions, folders, deletes); a move (its ancestor walk), an undelete, a
 * restore or a purge throws, as a caller's mistake.
 */
export const loadDecisionStateForAll = async (
  client: pg.ClientBase,
  schema: string,
  streamId: string,
  workspaceId: string,
  commands: readonly WorkspaceCommand[],
): Promise<DecisionState> => {
  const odd = commands.find((c) => !mergeable(c) || c.workspaceId !== workspaceId);
  if (odd !== undefined) throw new Error(`${odd.type} cannot be loaded with other commands of workspace ${workspaceId}`);
  const head = await loadHead(client, schema, streamId, workspaceId);
  if (head.row === undefined || head.row.root_id === null) return { state: { status: 'absent' }, version: head.row ? Number(head.row.version) : 0 };
  const rows = await loadNodes(client, schema, workspaceId, mergedNeeds(commands), true);
  return openState(head.row, workspaceId, head.row.root_id, rows, new Map(), null);
};

interface HeadRow {
  version: string;
  root_id: string | null;
  quota_bytes: string;
  used_bytes: string;
}

const loadHead = async (client: pg.ClientBase, schema: string, streamId: string, ws: string): Promise<{ row: HeadRow | undefined }> => {
  const head = await client.query<HeadRow>({
    name: `decision_head_${schema}`,
    text: `SELECT s.version, w.root_id, w.quota_bytes, w.used_bytes
           FROM es_streams s LEFT JOIN ${schema}.workspaces w ON w.workspace_id = $2
           WHERE s.stream_id = $1 FOR NO KEY UPDATE OF s`,
    values: [streamId, ws],
  });
  return { row: head.rows[0] };
};

const openState = (
  row: HeadRow,
  ws: string,
  rootId: string,
  rows: readonly NodeRow[],
  versions: ReadonlyMap<string, VersionView>,
  versionsOf: string | null,
): DecisionState => {
  const nodes = new Map<NodeId, NodeView>();
  for (const r of rows) nodes.set(r.node_id as NodeId, toView(r, versions, versionsOf));
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
  const { row } = await loadHead(client, schema, streamId, ws);
  if (row === undefined || row.root_id === null) return { state: { status: 'absent' }, version: row ? Number(row.version) : 0 };
  const rootId = row.root_id;
  const needs = needsOf(command);
  const rows = await loadNodes(client, schema, ws, needs);
  if (command.type === 'UndeleteNode') {
    const node = rows.find((r) => r.node_id === command.data.nodeId);
    if (node !== undefined) {
      const parents = [command.data.parentId, node.parent_id, rootId].filter((p): p is string => p !== null);
      const wanted = command.data.name;
      const siblings =
        wanted === null
          ? { parents, keys: [nameKey(node.name)], prefix: nameStemKey(node.name) }
          : nameProblem(wanted) === null
            ? { parents, keys: [nameKey(wanted)], prefix: null }
            : null;
      rows.push(...(await loadNodes(client, schema, ws, { nodeIds: [...parents], ancestorsOf: null, siblings, versions: null, trashedWith: null })));
    }
  }
  const versions = await loadVersions(client, schema, ws, needs);
  return openState(row, ws, rootId, rows, versions, needs.versions?.nodeId ?? null);
};
