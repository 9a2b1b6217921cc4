import * as t from 'io-ts';
import { ChunkRef } from '../../domain/chunks.js';


/** Query-string integers arrive as text. */
export const IntString = (name: string, min: number, max: number) =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      const n = typeof u === 'string' && /^\d{1,16}$/.test(u) ? Number(u) : NaN;
      return Number.isSafeInteger(n) && n >= min && n <= max ? t.success(n) : t.failure(u, c, `expected a whole number from ${min} to ${max}`);
    },
    String,
  );

/**
 * Ids in paths and bodies are opaque strings to callers: one that is not of our format cannot name
 * anything, so it is a not_found (see knownId), not a malformed request.
 */
export const OpaqueId = t.refinement(t.string, (s) => s.length >= 1 && s.length <= 512, 'Id');

export const WorkspaceParams = t.type({ workspaceId: OpaqueId });
export const NodeParams = t.type({ nodeId: OpaqueId });

export const NodeBody = t.intersection([
  t.type({
    nodeId: t.string,
    kind: t.keyof({ file: null, folder: null }),
    parentId: t.union([t.string, t.null]),
    name: t.string,
    path: t.string,
    modifiedAt: t.string,
  }),
  t.partial({ size: t.number, versionId: t.string, contentHash: t.string, chunks: t.array(ChunkRef) }),
], 'Node');

export const WorkspaceBody = t.type({
  workspaceId: t.string,
  rootId: t.string,
  cursor: t.number,
  usedBytes: t.number,
  quotaBytes: t.number,
}, 'Workspace');

export const LookupQuery = t.type({ path: t.string });
export const ChildrenQuery = t.partial({ limit: IntString('limit', 1, 1000), after: t.string });
export const ChildrenBody = t.intersection([t.type({ items: t.array(NodeBody) }), t.partial({ next: t.string })], 'Children');

export const CreateFolderBody = t.type({ workspaceId: OpaqueId, parentId: OpaqueId, name: t.string }, 'CreateFolder');
export const MoveBody = t.type({ parentId: OpaqueId, name: t.string }, 'Move');
export const CursorBody = t.type({ cursor: t.number }, 'Cursor');
