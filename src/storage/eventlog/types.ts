import * as t from 'io-ts';
import { DeviceId, IsoTimestamp, UserId } from '../../domain/ids.js';

/** Who and when: the part of an event's metadata that read models record. */
export const EventActor = t.type({
  at: IsoTimestamp,
  userId: UserId,
  deviceId: t.union([DeviceId, t.null]),
});
export type EventActor = t.TypeOf<typeof EventActor>;

/** Who, when, why: recorded with every event, beside its data. */
export const EventMetadata = t.intersection([
  EventActor,
  t.type({
    correlationId: t.string,
    causationId: t.union([t.string, t.null]),
  }),
  t.partial({ idempotencyKey: t.string }),
]);
export type EventMetadata = t.TypeOf<typeof EventMetadata>;

/** An event about to be appended: a {type, data} fact of some domain, plus its metadata. */
export interface NewEvent<E extends { type: string; data: unknown } = { type: string; data: unknown }> {
  readonly eventId: string;
  readonly event: E;
  readonly schemaVersion: number;
  readonly metadata: EventMetadata;
}

/**
 * A recorded event. `version` is its position in its stream (1-based, contiguous): for a workspace
 * stream, the API's cursor/seq. `position` orders it in the whole log.
 */
export interface StoredEvent<E extends { type: string; data: unknown } = { type: string; data: unknown }> {
  readonly streamId: string;
  readonly version: number;
  readonly eventId: string;
  readonly event: E;
  readonly metadata: EventMetadata;
  readonly position: LogPosition;
}

/** A point in the whole log, in commit-safe order: (transaction id, global position). */
export interface LogPosition {
  readonly txId: bigint;
  readonly globalPosition: bigint;
}

export const LOG_START: LogPosition = { txId: 0n, globalPosition: 0n };

export const comparePositions = (a: LogPosition, b: LogPosition): number =>
  a.txId !== b.txId ? (a.txId < b.txId ? -1 : 1) : a.globalPosition === b.globalPosition ? 0 : a.globalPosition < b.globalPosition ? -1 : 1;
