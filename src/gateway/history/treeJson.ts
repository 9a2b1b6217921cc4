import type { HistoricalNode, TreeFold } from '../../projections/history/fold.js';

export interface TreeNodeJson {
  readonly nodeId: string;
  readonly kind: 'file' | 'folder';
  readonly name: string;
  readonly path: string;
  readonly modifiedAt: string;
  readonly size?: number;
  readonly versionId?: string;
  readonly contentHash?: string;
  readonly children?: TreeNodeJson[];
}

const joinPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/** A node of a past tree and, for a folder, its live children then (depth levels of them; all when undefined). */
export const treeNodeJson = (tree: TreeFold, node: HistoricalNode, path: string, depth: number | undefined): TreeNodeJson => {
  const version = node.latestVersionId === null ? undefined : node.versions.get(node.latestVersionId);
  return {
    nodeId: node.nodeId,
    kind: node.kind,
    name: node.name,
    path,
    modifiedAt: node.modifiedAt,
    ...(node.kind === 'file' && version !== undefined ? { size: version.size, versionId: version.versionId, contentHash: version.contentHash } : {}),
    ...(node.kind === 'folder' && depth !== 0
      ? { children: tree.liveChildren(node.nodeId).map((child) => treeNodeJson(tree, child, joinPath(path, child.name), depth === undefined ? undefined : depth - 1)) }
      : {}),
  };
};
