import type { Either } from 'fp-ts/lib/Either.js';
import type { WorkspaceCommand } from '../domain/workspace/commands.js';
import type { WorkspaceEvent } from '../domain/workspace/events.js';
import type { WorkspaceState } from '../domain/workspace/state.js';
import type { NewEvent, StoredEvent } from '../storage/eventlog/types.js';
import type { CommandError } from './errors.js';

export type WorkspaceStoredEvent = StoredEvent<WorkspaceEvent>;

/** One consistent turn on a workspace stream: everything in it commits together or not at all. */
export interface UnitOfWork {
  /** The state decide needs for this command, and the stream version it reflects. */
  load(command: WorkspaceCommand): Promise<{ state: WorkspaceState; version: number }>;
  /**
   * One state for several commands decided one after the other (the caller evolves it with each
   * accepted command's events). Only for commands whose needs merge (see loadDecisionStateForAll).
   */
  loadForAll(commands: readonly WorkspaceCommand[]): Promise<{ state: WorkspaceState; version: number }>;
  /** The events a command with this idempotency key already produced, and the cursor they reached. */
  priorResult(idempotencyKey: string): Promise<PriorResult | null>;
  /** priorResult for many keys at once: the keys already used, with their results. */
  priorResults(idempotencyKeys: readonly string[]): Promise<Map<string, PriorResult>>;
  /** Appends at expectedVersion (ConcurrencyError when the stream moved) and applies the inline projections. */
  append(expectedVersion: number, events: readonly NewEvent<WorkspaceEvent>[]): Promise<WorkspaceStoredEvent[]>;
  /** Records that the command (or batch) with this key produced these events and reached this cursor. */
  remember(idempotencyKey: string, events: readonly WorkspaceStoredEvent[], cursor: number): Promise<void>;
  /** remember for many commands at once. */
  rememberAll(entries: readonly { key: string; events: readonly WorkspaceStoredEvent[]; cursor: number }[]): Promise<void>;
}

export interface PriorResult {
  readonly events: WorkspaceStoredEvent[];
  readonly cursor: number;
}

export interface WorkspaceStore {
  /**
   * Runs fn as one unit of work on the workspace's stream. A Right result commits; a Left or a
   * throw rolls back. Projection conflicts that decide could not see surface as a Left.
   */
  transact<A>(workspaceId: string, fn: (uow: UnitOfWork) => Promise<Either<CommandError, A>>): Promise<Either<CommandError, A>>;
}
