import * as E from 'fp-ts/lib/Either.js';
import type { WorkspaceCommand } from '../domain/workspace/commands.js';
import { decide } from '../domain/workspace/decide.js';
import { EVENT_SCHEMA_VERSION, type WorkspaceEvent } from '../domain/workspace/events.js';
import { ConcurrencyError } from '../storage/eventlog/errors.js';
import type { NewEvent } from '../storage/eventlog/types.js';
import { busy, type CommandError } from './errors.js';
import type { UnitOfWork, WorkspaceStore, WorkspaceStoredEvent } from './port.js';

export interface CommandResult {
  readonly events: readonly WorkspaceStoredEvent[];
  /** The workspace cursor after the command: the version its last event took (or the current one). */
  readonly cursor: number;
  /** True when an earlier command with the same idempotency key already did this. */
  readonly replayed: boolean;
}

export interface CommandHandlerDeps {
  readonly store: WorkspaceStore;
  /** Event ids (UUIDs). Injected so tests can be deterministic. */
  readonly newEventId: () => string;
  readonly maxAttempts?: number;
  /** Called after the commit is durable, never before: notifications hang off this. */
  readonly onCommitted?: (workspaceId: string, result: CommandResult) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type HandleCommand = (command: WorkspaceCommand) => Promise<E.Either<CommandError, CommandResult>>;

/**
 * Several commands on one workspace as one unit: each is decided against the state the previous
 * ones left, and either all their events are appended or none (a rewind, an undo of many changes).
 * The first command's idempotency key stands for the batch.
 */
export type HandleBatch = (workspaceId: string, commands: readonly WorkspaceCommand[]) => Promise<E.Either<CommandError, CommandResult>>;

export const toNewEvents = (command: WorkspaceCommand, events: readonly WorkspaceEvent[], newEventId: () => string): NewEvent<WorkspaceEvent>[] =>
  events.map((event) => ({
    eventId: newEventId(),
    event,
    schemaVersion: EVENT_SCHEMA_VERSION[event.type],
    metadata: {
      at: command.metadata.now,
      userId: command.metadata.userId,
      deviceId: command.metadata.deviceId ?? null,
      correlationId: command.metadata.correlationId ?? command.metadata.idempotencyKey ?? 'none',
      causationId: command.metadata.causationId ?? null,
      ...(command.metadata.idempotencyKey === undefined ? {} : { idempotencyKey: command.metadata.idempotencyKey }),
    },
  }));

/**
 * Load, decide, append with the expected version. A concurrency error (the stream moved under us)
 * re-loads and re-decides, a bounded number of times with jittered backoff; a domain error such as
 * a stale base version is an answer, returned as is and never retried away.
 */
const runBatch = (deps: CommandHandlerDeps): HandleBatch => {
  const turn = retryingTurns(deps);
  return async (workspaceId, commands) => {
    if (commands.some((c) => c.workspaceId !== workspaceId)) throw new Error('a batch holds commands of one workspace only');
    const key = commands[0]?.metadata.idempotencyKey;
    return turn<CommandResult>(
      workspaceId,
      async (uow) => {
        const appended: WorkspaceStoredEvent[] = [];
        let cursor: number | undefined;
        for (const [i, command] of commands.entries()) {
          const { state, version } = await uow.load(command);
          if (i === 0 && key !== undefined) {
            const prior = await uow.priorResult(key);
            if (prior !== null) return E.right({ ...prior, replayed: true });
          }
          const decision = decide(command, state);
          if (E.isLeft(decision)) return decision;
          const events = await uow.append(version, toNewEvents(command, decision.right, deps.newEventId));
          appended.push(...events);
          cursor = version + events.length;
        }
        if (key !== undefined) await uow.remember(key, appended, cursor ?? 0);
        return E.right({ events: appended, cursor: cursor ?? 0, replayed: false });
      },
      (result) => (result.replayed ? null : result),
    );
  };
};

/**
 * One turn on a workspace stream, retried when the stream moved under it (ConcurrencyError: re-load
 * and re-decide), a bounded number of times with jittered backoff. After the commit is durable,
 * never before, the appended events (committedOf) go to onCommitted.
 */
export const retryingTurns = (deps: CommandHandlerDeps) => {
  const maxAttempts = deps.maxAttempts ?? 8;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // The commit is durable by now: a failing notification must not turn it into an error for the caller.
  const notify = (workspaceId: string, result: CommandResult) => {
    try {
      deps.onCommitted?.(workspaceId, result);
    } catch {
      // Devices still catch up on their next pull; nothing is lost.
    }
  };
  return async <A>(
    workspaceId: string,
    fn: (uow: UnitOfWork) => Promise<E.Either<CommandError, A>>,
    committedOf: (a: A) => CommandResult | null,
  ): Promise<E.Either<CommandError, A>> => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const result = await deps.store.transact<A>(workspaceId, fn);
        const committed = E.isRight(result) ? committedOf(result.right) : null;
        if (committed !== null && committed.events.length > 0) notify(workspaceId, committed);
        return result;
      } catch (e) {
        if (!(e instanceof ConcurrencyError)) throw e;
        await sleep(Math.random() * Math.min(100, 2 ** attempt));
      }
    }
    return E.left(busy(maxAttempts));
  };
};

/**
 * Load, decide, append with the expected version. A concurrency error (the stream moved under us)
 * re-loads and re-decides, a bounded number of times with jittered backoff; a domain error such as
 * a stale base version is an answer, returned as is and never retried away.
 */
export const createCommandHandler = (deps: CommandHandlerDeps): HandleCommand => {
  const batch = runBatch(deps);
  return (command) => batch(command.workspaceId, [command]);
};

export const createBatchHandler = (deps: CommandHandlerDeps): HandleBatch => runBatch(deps);
