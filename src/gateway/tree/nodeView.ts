import type { NodeRecord } from '../../projections/tree/queries.js';

/** A node as api-v1.md shows it: files add size, versionId, contentHash and chunks. */
export const nodeJson = (n: NodeRecord) => ({
  nodeId: n.nodeId,
  kind: n.kind,
  parentId: n.parentId,
  name: n.name,
  path: n.path,
  modifiedAt: n.modifiedAt,
  ...(n.file === null ? {} : { size: n.file.size, versionId: n.file.versionId, contentHash: n.file.contentHash, chunks: n.file.chunks }),
});
