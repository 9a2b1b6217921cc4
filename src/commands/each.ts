import * as E from 'fp-ts/lib/Either.js';
import type { WorkspaceCommand } from '../domain/workspace/commands.js';
import type { DomainError } from '../domain/errors.js';
import { decideEach } from '../domain/workspace/decideEach.js';
import type { WorkspaceEvent } from '../domain/workspace/events.js';
import type { NewEvent } from '../storage/eventlog/types.js';
import type { CommandError } from './errors.js';
import { createCommandHandler, retryingTurns, toNewEvents, type CommandHandlerDeps, type CommandResult } from './handle.js';
import type { WorkspaceStoredEvent } from './port.js';

/** One command's answer within a batch of independent commands. */
export type EachOutcome = E.Either<CommandError, CommandResult>;

/**
 * Many independent commands on one workspace in one unit of work: each is decided in order against
 * the state the accepted ones before it left, a refused one does not refuse the others, and the
 * events of all the accepted ones are appended together (one durable write). Every command keeps
 * its own idempotency key. Left only when the workspace gave no turn at all (busy).
 */
export type HandleEach = (workspaceId: string, commands: readonly WorkspaceCommand[]) => Promise<E.Either<CommandError, EachOutcome[]>>;

interface Accepted {
  readonly index: number;
  readonly from: number;
  readonly count: number;
}

export const createEachHandler = (deps: CommandHandlerDeps): HandleEach => {
  const turn = retryingTurns(deps);
  const single = createCommandHandler(deps);
  // The turn's answer carries what it appended, as one result, for the listeners of durable commits.
  const together = (workspaceId: string, commands: readonly WorkspaceCommand[]) =>
    turn<{ outcomes: EachOutcome[]; appended: CommandResult | null }>(
      workspaceId,
      async (uow) => {
        const keyOf = (c: WorkspaceCommand) => c.metadata.idempotencyKey;
        const prior = await uow.priorResults(commands.map(keyOf).filter((k): k is string => k !== undefined));
        const fresh = commands.filter((c) => !prior.has(keyOf(c) ?? ''));
        const outcomes: (EachOutcome | undefined)[] = commands.map((c) => {
          const p = prior.get(keyOf(c) ?? '');
          return p === undefined ? undefined : E.right({ ...p, replayed: true });
        });
        if (fresh.length === 0) return E.right({ outcomes: outcomes as EachOutcome[], appended: null });
        const loaded = await uow.loadForAll(fresh);
        let version = loaded.version;
        const base = version;
        // A key used twice in one batch: the second one answers what the first did.
        const firstWithKey = new Map<string, number>();
        const sameAs = new Map<number, number>();
        const toDecide: number[] = [];
        for (const [index, command] of commands.entries()) {
          if (outcomes[index] !== undefined) continue;
          const key = keyOf(command);
          const earlier = key === undefined ? undefined : firstWithKey.get(key);
          if (earlier !== undefined) sameAs.set(index, earlier);
          else {
            if (key !== undefined) firstWithKey.set(key, index);
            toDecide.push(index);
          }
        }
        const { decisions } = decideEach(
          toDecide.map((i) => commands[i] as WorkspaceCommand),
          loaded.state,
        );
        const pending: NewEvent<WorkspaceEvent>[] = [];
        const accepted: Accepted[] = [];
        toDecide.forEach((index, k) => {
          const decision = decisions[k] as E.Either<DomainError, WorkspaceEvent[]>;
          if (E.isLeft(decision)) {
            outcomes[index] = decision;
            return;
          }
          accepted.push({ index, from: pending.length, count: decision.right.length });
          pending.push(...toNewEvents(commands[index] as WorkspaceCommand, decision.right, deps.newEventId));
        });
        const stored = await uow.append(version, pending);
        version += stored.length;
        const remembered: { key: string; events: WorkspaceStoredEvent[]; cursor: number }[] = [];
        for (const a of accepted) {
          const events = stored.slice(a.from, a.from + a.count);
          const cursor = a.count === 0 ? base + a.from : base + a.from + a.count;
          outcomes[a.index] = E.right({ events, cursor, replayed: false });
          const key = keyOf(commands[a.index] as WorkspaceCommand);
          if (key !== undefined) remembered.push({ key, events, cursor });
        }
        await uow.rememberAll(remembered);
        for (const [index, earlier] of sameAs) {
          const first = outcomes[earlier] as EachOutcome;
          outcomes[index] = E.isLeft(first) ? first : E.right({ ...first.right, replayed: true });
        }
        return E.right({ outcomes: outcomes as EachOutcome[], appended: stored.length === 0 ? null : { events: stored, cursor: version, replayed: false } });
      },
      (answer) => answer.appended,
    );

  return async (workspaceId, commands) => {
    if (commands.some((c) => c.workspaceId !== workspaceId)) throw new Error('a batch holds commands of one workspace only');
    if (commands.length === 0) return E.right([]);
    const result = await together(workspaceId, commands);
    // The store refused the whole turn for something decide could not see (a name that collides
    // only under the database's own comparison): fall back to one turn per command, so only the
    // command at fault is refused.
    if (E.isLeft(result) && result.left._tag !== 'BusyError') {
      const outcomes: EachOutcome[] = [];
      for (const command of commands) outcomes.push(await single(command));
      return E.right(outcomes);
    }
    return E.map((answer: { outcomes: EachOutcome[] }) => answer.outcomes)(result);
  };
};
