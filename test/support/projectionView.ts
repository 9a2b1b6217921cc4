import type { WorkspaceState } from '../../src/domain/workspace/state.js';
import type { TestDatabase } from './db.js';

export interface ComparableWorkspace {
  usedBytes: number;
  nodes: Record<string, { kind: string; parentId: string | null; name: string; trashedBy: string | null; purged: boolean; latestVersionId: string | null; size: number }>;
  versions: Record<string, { nodeId: string; size: number; purged: boolean }>;
  chunkRefs: Record<string, number>;
}

/** The tree projection's rows for one workspace, in a shape the folded state can be put in too. */
export const projectionView = async (db: TestDatabase, ws: string): Promise<ComparableWorkspace> => {
  const w = await db.pool.query('SELECT used_bytes FROM rm.workspaces WHERE workspace_id = $1', [ws]);
  const nodes = await db.pool.query('SELECT * FROM rm.nodes WHERE workspace_id = $1', [ws]);
  const versions = await db.pool.query('SELECT version_id, node_id, size, purged_at FROM rm.versions WHERE workspace_id = $1', [ws]);
  const refs = await db.pool.query('SELECT hash, refs FROM rm.chunk_refs WHERE workspace_id = $1', [ws]);
  return {
    usedBytes: Number(w.rows[0]?.used_bytes),
    nodes: Object.fromEntries(
      nodes.rows.map((n) => [
        n.node_id,
        { kind: n.kind, parentId: n.parent_id, name: n.name, trashedBy: n.trashed_by, purged: n.purged, latestVersionId: n.latest_version_id, size: Number(n.size) },
      ]),
    ),
    versions: Object.fromEntries(versions.rows.map((v) => [v.version_id, { nodeId: v.node_id, size: Number(v.size), purged: v.purged_at !== null }])),
    chunkRefs: Object.fromEntries(refs.rows.map((r) => [r.hash, r.refs])),
  };
};

/** The same view computed from the fold of the stream: the reference. */
export const foldedView = (state: WorkspaceState): ComparableWorkspace => {
  if (state.status !== 'open') throw new Error('workspace is absent');
  const out: ComparableWorkspace = { usedBytes: state.usedBytes, nodes: {}, versions: {}, chunkRefs: {} };
  for (const n of state.nodes.values()) {
    out.nodes[n.nodeId] = {
      kind: n.kind, parentId: n.parentId, name: n.name, trashedBy: n.trashedBy, purged: n.purged,
      latestVersionId: n.kind === 'file' ? n.latestVersionId : null, size: n.size,
    };
    for (const v of n.versions.values()) {
      out.versions[v.versionId] = { nodeId: n.nodeId, size: v.size, purged: v.purged };
      if (!v.purged) for (const h of new Set(v.chunks.map((c) => c.hash))) out.chunkRefs[h] = (out.chunkRefs[h] ?? 0) + 1;
    }
  }
  return out;
};
