import type { ChunkRef } from '../chunks.js';
import type { ChunkHash, NodeId, NonNegativeInt, VersionId, WorkspaceId } from '../ids.js';
import { nameKey } from '../names.js';
import type { NodeKind } from './events.js';

export interface VersionView {
  readonly versionId: VersionId;
  readonly size: NonNegativeInt;
  readonly contentHash: ChunkHash;
  readonly chunks: readonly ChunkRef[];
  readonly purged: boolean;
}

export interface NodeView {
  readonly nodeId: NodeId;
  readonly kind: NodeKind;
  /** null only for the root folder. */
  readonly parentId: NodeId | null;
  readonly name: string;
  /** The trash root this node went to the trash with (itself when deleted directly); null when live. */
  readonly trashedBy: NodeId | null;
  readonly purged: boolean;
  readonly latestVersionId: VersionId | null;
  readonly size: number;
  /** Versions of a file. A state loaded for one decision holds only the versions it needs. */
  readonly versions: ReadonlyMap<VersionId, VersionView>;
}

/**
 * The workspace as decide sees it. Folded from the whole stream it holds every node; loaded for one
 * command from the projection it holds the nodes that command's rules look at (see
 * src/projections/tree/decisionState.ts), with the same meaning.
 */
export type WorkspaceState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'open';
      readonly workspaceId: WorkspaceId;
      readonly rootId: NodeId;
      readonly quotaBytes: number;
      /** Bytes of the latest versions of live files; trash and history do not count. */
      readonly usedBytes: number;
      readonly nodes: ReadonlyMap<NodeId, NodeView>;
    };

export type OpenWorkspace = Extract<WorkspaceState, { status: 'open' }>;

export const initialState = (): WorkspaceState => ({ status: 'absent' });

export const isLive = (node: NodeView): boolean => node.trashedBy === null && !node.purged;

// Node views are immutable and shared between the states evolve makes, so a node's key is computed
// once however many decisions look at it (a batch of commits into one folder would otherwise fold
// every sibling's name again for each new file). A memo, not state: no decision depends on it.
const keys = new WeakMap<NodeView, string>();
const keyOf = (node: NodeView): string => {
  let key = keys.get(node);
  if (key === undefined) {
    key = nameKey(node.name);
    keys.set(node, key);
  }
  return key;
};

/** The live child of parentId whose name collides with name, if any. */
export const liveChildNamed = (state: OpenWorkspace, parentId: NodeId, name: string): NodeView | undefined => {
  const key = nameKey(name);
  for (const node of state.nodes.values()) {
    if (node.parentId === parentId && isLive(node) && keyOf(node) === key) return node;
  }
  return undefined;
};

/** True when ancestorId is nodeId or one of its ancestors (walking parent links in the state). */
export const isAncestorOrSelf = (state: OpenWorkspace, ancestorId: NodeId, nodeId: NodeId): boolean => {
  let current: NodeId | null = nodeId;
  for (let depth = 0; current !== null && depth <= state.nodes.size + 1; depth++) {
    if (current === ancestorId) return true;
    current = state.nodes.get(current)?.parentId ?? null;
  }
  return false;
};
