import * as t from 'io-ts';
import { IntString, OpaqueId } from '../tree/codecs.js';

export const MAX_PAGE = 5000;

export const ChangesParams = t.type({ workspaceId: OpaqueId });
export const ChangesQuery = t.intersection([
  t.type({ cursor: IntString('cursor', 0, Number.MAX_SAFE_INTEGER) }),
  // Any positive limit is accepted and capped at the maximum page, as api-v1.md describes.
  t.partial({ limit: IntString('limit', 1, Number.MAX_SAFE_INTEGER) }),
]);
export const LongPollQuery = t.intersection([
  t.type({ cursor: IntString('cursor', 0, Number.MAX_SAFE_INTEGER) }),
  t.partial({ timeout: IntString('timeout', 0, 120) }),
]);

export const ApiEvent = t.type({
  seq: t.number,
  type: t.string,
  at: t.string,
  deviceId: t.union([t.string, t.null]),
  userId: t.string,
  nodeId: t.string,
  data: t.UnknownRecord,
}, 'Event');
export const ChangesBody = t.type({ events: t.array(ApiEvent), cursor: t.number, hasMore: t.boolean }, 'Changes');
export const LongPollBody = t.type({ changes: t.boolean, cursor: t.number }, 'LongPoll');

/** What the server pushes on the socket; both ends share this map. */
export interface ServerToClientEvents {
  changes: (payload: { workspaceId: string; cursor: number }) => void;
}
export type ClientToServerEvents = Record<string, never>;
