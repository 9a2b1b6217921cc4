import type { LogPosition, NewEvent, StoredEvent } from './types.js';

type AnyEvent = { type: string; data: unknown };

export interface AppendResult<E extends AnyEvent = AnyEvent> {
  readonly events: readonly StoredEvent<E>[];
  /** The stream's version after the append. */
  readonly version: number;
}

export interface ReadAllPage<E extends AnyEvent = AnyEvent> {
  readonly events: readonly StoredEvent<E>[];
  /** Pass back to continue after the last event returned. */
  readonly next: LogPosition;
}

/** The event log: streams of immutable events with optimistic concurrency. */
export interface EventLog<E extends AnyEvent = AnyEvent> {
  /** Appends atomically if the stream is still at expectedVersion (0: new stream); else ConcurrencyError. */
  append(streamId: string, expectedVersion: number, events: readonly NewEvent<E>[]): Promise<AppendResult<E>>;
  /** Events of one stream with version > afterVersion, oldest first. */
  readStream(streamId: string, afterVersion: number, limit: number): Promise<readonly StoredEvent<E>[]>;
  /** The stream's current version (0 when it has no events). */
  streamVersion(streamId: string): Promise<number>;
  /**
   * Events of all streams after `after`, in commit-safe order: an event is only returned once every
   * transaction that could still commit an earlier-ordered event has finished, so a reader that
   * resumes from `next` never skips one.
   */
  readAll(after: LogPosition, limit: number): Promise<ReadAllPage<E>>;
}
