import type { WorkspaceEvent } from '../../domain/workspace/events.js';
import type { StoredEvent } from '../../storage/eventlog/types.js';

const nodeOf = (e: WorkspaceEvent): string => (e.type === 'WorkspaceCreated' ? e.data.rootId : e.data.nodeId);

/** An event as devices receive it: its position, type, time, origin, node, and the facts to apply it. */
export const apiEvent = (e: StoredEvent<WorkspaceEvent>) => ({
  seq: e.version,
  type: e.event.type,
  at: e.metadata.at,
  deviceId: e.metadata.deviceId,
  userId: e.metadata.userId,
  nodeId: nodeOf(e.event),
  data: e.event.data as Record<string, unknown>,
});
