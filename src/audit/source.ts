import * as E from 'fp-ts/lib/Either.js';
import type { WorkspaceEvent } from '../domain/workspace/events.js';
import { decodeFast, decodeStored } from '../storage/eventlog/decode.js';
import type { HashedFields } from '../storage/eventlog/hashChain.js';
import { EventMetadata } from '../storage/eventlog/types.js';
import { workspaceEventSchema } from '../storage/eventlog/workspaceSchema.js';

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

/** Who the ids of a workspace's events are: its users' emails and its devices' names (revoked ones too). */
export interface AuditPeople {
  readonly users: ReadonlyMap<string, string>;
  readonly devices: ReadonlyMap<string, string>;
}

/**
 * Where audit commands read a workspace's history: the database directly (operators) or the API with
 * a device's token (the workspace's own people). Both give the stored events, so what the log and
 * the tree show is what `audit verify` checks. Every read is a bounded page.
 */
export interface AuditSource {
  head(workspaceId: string): Promise<ChainHead | null>;
  /** Stored events with version > after, oldest first, at most limit. */
  chained(workspaceId: string, after: number, limit: number): Promise<readonly ChainedEvent[]>;
  /** The workspace's users and devices, to name the ids events carry. */
  people(workspaceId: string): Promise<AuditPeople>;
  close(): Promise<void>;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * A stored event decoded as any read of the log decodes it (upcast to the current shape). An event
 * this build cannot decode (a type added by a newer version, or a stored row that no longer fits its
 * codec) is still shown, by its type and raw data: an audit reports history, it does not stop at it.
 */
export const decodeAuditEvent = (e: ChainedEvent): AuditEvent => {
  const meta = decodeFast(EventMetadata, e.metadata);
  const raw = (e.metadata ?? {}) as Record<string, unknown>;
  const who = E.isRight(meta)
    ? { at: meta.right.at as string, userId: meta.right.userId as string, deviceId: meta.right.deviceId as string | null }
    : { at: text(raw.at) ?? '', userId: text(raw.userId) ?? '', deviceId: text(raw.deviceId) };
  let event: AuditEvent['event'];
  try {
    event = decodeStored(workspaceEventSchema, e, e.type, e.schemaVersion, e.data);
  } catch {
    event = { type: e.type, data: e.data, unknown: true };
  }
  return { seq: e.version, ...who, event };
};

/**
 * Every event of a workspace from a source, oldest first, a page at a time (memory: one page), up to
 * `upTo` (the head read before: events appended meanwhile are not this reading's business).
 */
export async function* auditEvents(source: AuditSource, workspaceId: string, options: { pageSize: number; upTo: number }): AsyncGenerator<AuditEvent> {
  for (let after = 0; after < options.upTo; ) {
    const page = await source.chained(workspaceId, after, Math.min(options.pageSize, options.upTo - after));
    const last = page[page.length - 1];
    if (last === undefined) return;
    for (const e of page) yield decodeAuditEvent(e);
    after = last.version;
  }
}
