import type { WorkspaceEvent } from '../domain/workspace/events.js';
import type { HashedFields } from '../storage/eventlog/hashChain.js';

/** A stored event exactly as the log holds it (data and metadata as stored, not upcast), with its chain hash. */
export interface ChainedEvent extends HashedFields {
  /** Lowercase hex SHA-256. */
  readonly hash: string;
}

/** A stream's head: its version (the workspace cursor) and the hash of its last event. */
export interface ChainHead {
  readonly cursor: number;
  readonly headHash: string;
}

/** An event as an auditor reads it: position, who and when, and the fact (decoded; unknown types keep their raw data). */
export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly event: WorkspaceEvent | { readonly type: string; readonly data: unknown; readonly unknown: true };
}

/**
 * Where audit commands read a workspace's history: the database directly (operators) or the API with
 * a device's token (the workspace's own people). Every read is a bounded page.
 */
export interface AuditSource {
  head(workspaceId: string): Promise<ChainHead | null>;
  /** Stored events with version > after, oldest first, at most limit. */
  chained(workspaceId: string, after: number, limit: number): Promise<readonly ChainedEvent[]>;
  /** Decoded events with seq > after, oldest first, at most limit. */
  events(workspaceId: string, after: number, limit: number): Promise<readonly AuditEvent[]>;
  close(): Promise<void>;
}

/** Every event of a workspace from a source, a page at a time (memory: one page). */
export async function* auditEvents(source: AuditSource, workspaceId: string, pageSize: number): AsyncGenerator<AuditEvent> {
  for (let after = 0; ; ) {
    const page = await source.events(workspaceId, after, pageSize);
    yield* page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < pageSize) return;
    after = last.seq;
  }
}
