import * as E from 'fp-ts/lib/Either.js';
import { chunkTotal, MAX_CHUNK_BYTES, type ChunkRef } from '../../chunks.js';
import { domainError, type DomainError } from '../../errors.js';
import type { NodeId } from '../../ids.js';
import { nameProblem } from '../../names.js';
import { isLive, liveChildNamed, type NodeView, type OpenWorkspace, type WorkspaceState } from '../state.js';

export type Decision<A> = E.Either<DomainError, A>;

export const open = (state: WorkspaceState): Decision<OpenWorkspace> =>
  state.status === 'open' ? E.right(state) : E.left(domainError('not_found', 'Workspace not found.'));

export const validName = (name: string): Decision<string> => {
  const problem = nameProblem(name);
  return problem === null
    ? E.right(name)
    : E.left(domainError('invalid_name', `Invalid name: ${problem.replace(/_/g, ' ')}.`, { name, reason: problem }));
};

export const liveNode = (state: OpenWorkspace, nodeId: NodeId): Decision<NodeView> => {
  const node = state.nodes.get(nodeId);
  return node !== undefined && isLive(node)
    ? E.right(node)
    : E.left(domainError('not_found', 'No such file or folder.', { nodeId }));
};

export const liveFolder = (state: OpenWorkspace, nodeId: NodeId): Decision<NodeView> =>
  E.chain((node: NodeView) =>
    node.kind === 'folder' ? E.right(node) : E.left(domainError('not_a_folder', 'The parent is not a folder.', { nodeId })),
  )(liveNode(state, nodeId));

export const liveFile = (state: OpenWorkspace, nodeId: NodeId): Decision<NodeView> =>
  E.chain((node: NodeView) =>
    node.kind === 'file' ? E.right(node) : E.left(domainError('not_a_file', 'That node is a folder, not a file.', { nodeId })),
  )(liveNode(state, nodeId));

export const notRoot = (state: OpenWorkspace, node: NodeView): Decision<NodeView> =>
  node.nodeId === state.rootId
    ? E.left(domainError('root_immutable', 'The root folder cannot be moved or deleted.', { nodeId: node.nodeId }))
    : E.right(node);

export const unusedId = (state: OpenWorkspace, nodeId: NodeId): Decision<NodeId> =>
  state.nodes.has(nodeId) ? E.left(domainError('id_taken', 'That node id is already used.', { nodeId })) : E.right(nodeId);

/** The name is free among the live children of parentId (except the node itself, so case-only renames work). */
export const freeName = (state: OpenWorkspace, parentId: NodeId, name: string, self?: NodeId): Decision<string> => {
  const existing = liveChildNamed(state, parentId, name);
  return existing === undefined || existing.nodeId === self
    ? E.right(name)
    : E.left(
        domainError('name_conflict', `A file or folder named "${existing.name}" already exists here.`, {
          parentId,
          name,
          existingNodeId: existing.nodeId,
        }),
      );
};

/** Chunks are 1 byte..16 MiB each (an empty file has none) and add up to the declared size. */
export const consistentChunks = (chunks: readonly ChunkRef[], size: number): Decision<readonly ChunkRef[]> => {
  const bad = chunks.findIndex((c) => c.size < 1 || c.size > MAX_CHUNK_BYTES);
  if (bad >= 0)
    return E.left(domainError('invalid_chunks', `Chunk ${bad} has size ${chunks[bad]?.size}; chunks are 1 byte to ${MAX_CHUNK_BYTES} bytes.`, { index: bad }));
  const total = chunkTotal(chunks);
  return total === size
    ? E.right(chunks)
    : E.left(domainError('size_mismatch', `The chunks add up to ${total} bytes, not ${size}.`, { size, chunkTotal: total }));
};

export const withinQuota = (state: OpenWorkspace, growth: number): Decision<number> =>
  growth <= 0 || state.usedBytes + growth <= state.quotaBytes
    ? E.right(growth)
    : E.left(
        domainError('quota_exceeded', 'This change would exceed the workspace storage quota.', {
          usedBytes: state.usedBytes,
          quotaBytes: state.quotaBytes,
          requiredBytes: growth,
        }),
      );
