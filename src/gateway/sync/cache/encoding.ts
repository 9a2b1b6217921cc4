import type { WorkspaceEvent } from '../../../domain/workspace/events.js';
import type { StoredEvent } from '../../../storage/eventlog/types.js';
import { apiEvent } from '../apiEvent.js';

/** An event as the changes feed writes it, for an event read back from the log. */
export const encodeLogEvent = (e: StoredEvent<WorkspaceEvent>): string => JSON.stringify(apiEvent(e));

const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/**
 * Orders object keys as Postgres jsonb stores them (shorter keys first, then by bytes), at every
 * depth. The feed has always been rendered from events read back from jsonb, so an event this node
 * just committed must be rendered with its keys in that order to give the very same bytes.
 */
export const inJsonbKeyOrder = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(inJsonbKeyOrder);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => {
    if (isAscii(a) && isAscii(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
    return Buffer.byteLength(a) - Buffer.byteLength(b) || byteCompare(a, b);
  });
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = inJsonbKeyOrder((value as Record<string, unknown>)[k]);
  return out;
};

/** An event as the changes feed writes it, for an event this node has just committed (not read back). */
export const encodeCommittedEvent = (e: StoredEvent<WorkspaceEvent>): string => {
  const api = apiEvent(e);
  return JSON.stringify({ ...api, data: inJsonbKeyOrder(api.data) });
};

/** The body of a changes answer: byte for byte what JSON.stringify({events, cursor, hasMore}) gives. */
export const pageBody = (encodedEvents: readonly string[], cursor: number, hasMore: boolean): Buffer =>
  Buffer.from(`{"events":[${encodedEvents.join(',')}],"cursor":${cursor},"hasMore":${hasMore}}`);
