import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import { decide } from '../../../src/domain/workspace/decide.js';
import type { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import { evolve } from '../../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../../src/domain/workspace/state.js';
import type { StoredEvent } from '../../../src/storage/eventlog/types.js';
import { commandsFor, interpret, recipeArb, type Commands, type Recipe } from '../../support/workspaceCommands.js';

export const WORKSPACE = 'w1';

/** The stored form of events decided in memory: stream versions from 1, recorded at their command's time. */
export const stored = (events: readonly WorkspaceEvent[], command: WorkspaceCommand, after: number): StoredEvent<WorkspaceEvent>[] =>
  events.map((event, i) => ({
    streamId: `workspace-${command.workspaceId}`,
    version: after + i + 1,
    eventId: `e${after + i + 1}`,
    event,
    metadata: { at: command.metadata.now, userId: command.metadata.userId, deviceId: null, correlationId: 'test', causationId: null },
    position: { txId: 1n, globalPosition: BigInt(after + i + 1) },
  }));

export interface History {
  readonly c: Commands;
  readonly events: StoredEvent<WorkspaceEvent>[];
  /** The domain's fold after each event: states[k] holds the first k events. */
  readonly states: WorkspaceState[];
}

/** A random history: the recipes interpreted against the domain fold, refusals left out, as the log would hold it. */
export const historyOf = (recipes: readonly Recipe[]): History => {
  const c = commandsFor(WORKSPACE);
  let state = initialState();
  const events: StoredEvent<WorkspaceEvent>[] = [];
  const states: WorkspaceState[] = [state];
  for (const step of [c.createWorkspace(), ...recipes]) {
    const command = 'op' in step ? interpret(c, state, step) : step;
    if (command === null) continue;
    const decision = decide(command, state);
    if (E.isLeft(decision)) continue;
    for (const e of stored(decision.right, command, events.length)) {
      state = evolve(state, e.event);
      events.push(e);
      states.push(state);
    }
  }
  return { c, events, states };
};

export const historyArb = (maxLength: number) => fc.array(recipeArb, { minLength: 1, maxLength }).map(historyOf);

const names = ['a', 'A', 'b.txt', 'B.TXT', 'x', 'y', 'y (1)', 'caf\u00e9', 'cafe\u0301'];
const recipe = (ops: readonly Recipe['op'][]): fc.Arbitrary<Recipe> =>
  fc.record({ op: fc.constantFrom(...ops), a: fc.nat(1000), b: fc.nat(1000), name: fc.constantFrom(...names) });

/**
 * A tree built first (folders and files), then worked on (moves, renames, edits, deletes,
 * undeletes, restores, purges): the shape of history a rewind undoes.
 */
export const builtThenChangedArb = fc
  .tuple(
    fc.array(recipe(['folder', 'folder', 'file', 'file', 'edit']), { minLength: 5, maxLength: 30 }),
    fc.array(recipe(['folder', 'file', 'edit', 'move', 'move', 'move', 'move', 'delete', 'delete', 'undelete', 'restore', 'purge', 'purgeVersions']), { maxLength: 50 }),
  )
  .map(([built, changed]) => ({ ...historyOf([...built, ...changed]), built: built.length }));
