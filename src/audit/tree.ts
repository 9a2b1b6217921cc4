import type { WorkspaceEvent } from '../domain/workspace/events.js';
import type { HistoricalNode } from '../projections/history/fold.js';
import { treeAt, type HistoricalTree } from '../projections/history/treeAt.js';
import type { StoredEvent } from '../storage/eventlog/types.js';
import { LOG_START } from '../storage/eventlog/types.js';
import { workspaceStreamId } from '../storage/eventlog/workspaceSchema.js';
import { auditEvents, type AuditSource } from './source.js';

export interface TreeEntry {
  readonly path: string;
  readonly nodeId: string;
  readonly kind: 'file' | 'folder';
  readonly size: number;
  readonly versionId: string | null;
  readonly modifiedAt: string;
}

/**
 * The events as the history fold takes them. The fold reads neither log positions nor event ids:
 * they are left empty. Types newer than this build are skipped.
 */
async function* foldable(source: AuditSource, workspaceId: string, pageSize: number, upTo: number): AsyncGenerator<StoredEvent<WorkspaceEvent>> {
  for await (const e of auditEvents(source, workspaceId, { pageSize, upTo })) {
    if ('unknown' in e.event) continue;
    yield {
      streamId: workspaceStreamId(workspaceId),
      version: e.seq,
      eventId: '',
      event: e.event,
      metadata: { at: e.at, userId: e.userId, deviceId: e.deviceId, correlationId: '', causationId: null } as StoredEvent['metadata'],
      position: LOG_START,
    };
  }
}

/**
 * The workspace's tree as it was at `at` (src/projections/history/treeAt.ts: its stream up to the
 * first event after `at`); null when there is no such workspace (or the token may not read it).
 */
export const auditTreeAt = async (source: AuditSource, workspaceId: string, at: Date, pageSize = 1000): Promise<HistoricalTree | null> => {
  const head = await source.head(workspaceId);
  return head === null ? null : treeAt(foldable(source, workspaceId, pageSize, head.cursor), at);
};

/** The live nodes of a historical tree, depth first, children by name; the root is "/". */
export function* treeEntries(tree: HistoricalTree): Generator<TreeEntry> {
  if (tree.rootId === null) return;
  const entry = (n: HistoricalNode): TreeEntry => ({
    path: tree.pathOf(n.nodeId), nodeId: n.nodeId, kind: n.kind, size: n.size, versionId: n.latestVersionId, modifiedAt: n.modifiedAt,
  });
  const root = tree.node(tree.rootId);
  if (root === undefined) return;
  const stack: HistoricalNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as HistoricalNode;
    yield entry(node);
    if (node.kind === 'folder') stack.push(...tree.liveChildren(node.nodeId).reverse());
  }
}
