import * as t from 'io-ts';
import { IntString, OpaqueId } from '../tree/codecs.js';

export const MAX_AUDIT_PAGE = 5000;

export const AuditParams = t.type({ workspaceId: OpaqueId });
export const AuditEventsQuery = t.partial({
  after: IntString('after', 0, Number.MAX_SAFE_INTEGER),
  limit: IntString('limit', 1, MAX_AUDIT_PAGE),
});

/** The stream's head: the workspace cursor and the hash of its last event (lowercase hex SHA-256). */
export const AuditHeadBody = t.type({ cursor: t.number, headHash: t.string }, 'AuditHead');

/**
 * An event as stored, with its chain hash: hash = SHA-256(previous hash || canonical JSON of
 * {data, eventId, metadata, schemaVersion, streamId, type, version}) (keys sorted, no whitespace;
 * the first event's previous hash is 32 zero bytes). `data` is the stored shape, not upcast.
 */
export const AuditEventBody = t.type({
  streamId: t.string,
  version: t.number,
  eventId: t.string,
  type: t.string,
  schemaVersion: t.number,
  data: t.unknown,
  metadata: t.unknown,
  hash: t.string,
}, 'AuditEvent');
/** Who the ids of the workspace's events are (revoked devices included). */
export const AuditPeopleBody = t.type(
  { users: t.array(t.type({ userId: t.string, email: t.string })), devices: t.array(t.type({ deviceId: t.string, name: t.string })) },
  'AuditPeople',
);
export const AuditEventsBody = t.type({ events: t.array(AuditEventBody), cursor: t.number, hasMore: t.boolean }, 'AuditEvents');
