import { EVENT_SCHEMA_VERSION, WorkspaceEvent, type WorkspaceEventType } from '../../domain/workspace/events.js';
import type { EventSchema } from './decode.js';

/** How workspace events are read back from the log: current codec, versions, and upcasters (none yet). */
export const workspaceEventSchema: EventSchema<WorkspaceEvent> = {
  codec: WorkspaceEvent,
  currentVersion: (type) => (Object.hasOwn(EVENT_SCHEMA_VERSION, type) ? EVENT_SCHEMA_VERSION[type as WorkspaceEventType] : undefined),
  upcasters: {},
};

export const workspaceStreamId = (workspaceId: string): string => `workspace-${workspaceId}`;
