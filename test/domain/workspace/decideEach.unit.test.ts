import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import { decide } from '../../../src/domain/workspace/decide.js';
import { decideEach } from '../../../src/domain/workspace/decideEach.js';
import { evolve } from '../../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../../src/domain/workspace/state.js';
import { chunkOf, commandsFor, interpret, recipeArb } from '../../support/workspaceCommands.js';

/** decide then evolve, command after command: what decideEach must answer. */
const oneByOne = (commands: readonly WorkspaceCommand[], from: WorkspaceState) => {
  let state = from;
  const decisions = commands.map((c) => {
    const d = decide(c, state);
    if (E.isRight(d)) state = d.right.reduce(evolve, state);
    return d;
  });
  return { decisions, state };
};

/** A state as plain data, to compare and to check that nothing changed it. */
const snapshot = (s: WorkspaceState) =>
  s.status === 'open' ? { ...s, nodes: [...s.nodes.entries()].map(([id, n]) => [id, { ...n, versions: [...n.versions.entries()] }]) } : s;

describe('decideEach: a batch of commands decided in turn', () => {
  it('given any history, a batch of any commands answers as decide and evolve one by one, and leaves the state it was given as it was', () => {
    fc.assert(
      fc.property(fc.array(recipeArb, { maxLength: 30 }), fc.array(recipeArb, { minLength: 1, maxLength: 30 }), (history, batch) => {
        const c = commandsFor('w1');
        let state = evolve(initialState(), (decide(c.createWorkspace(), initialState()) as E.Right<never>).right[0]);
        for (const r of history) {
          const command = interpret(c, state, r);
          const d = command === null ? null : decide(command, state);
          if (d !== null && E.isRight(d)) state = d.right.reduce(evolve, state);
        }
        // The batch's commands are built against the state before it, as a client sends them:
        // later ones may collide with earlier ones (same name, node already gone).
        const commands = batch.map((r) => interpret(c, state, r)).filter((x): x is WorkspaceCommand => x !== null);
        const before = snapshot(state);
        const each = decideEach(commands, state);
        const expected = oneByOne(commands, state);
        expect(each.decisions).toEqual(expected.decisions);
        expect(snapshot(each.state)).toEqual(snapshot(expected.state));
        expect(snapshot(state)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('given two new files of one name in one folder, when decided as one batch, then the second is a name conflict', () => {
    const c = commandsFor('w1');
    const open = evolve(initialState(), (decide(c.createWorkspace(), initialState()) as E.Right<never>).right[0]);
    const { decisions, state } = decideEach([c.commitNew('root', 'a.txt', [chunkOf('1')]), c.commitNew('root', 'A.TXT', [chunkOf('2')])], open);
    expect(E.isRight(decisions[0] as E.Either<unknown, unknown>)).toBe(true);
    expect(decisions[1]).toMatchObject({ _tag: 'Left', left: { code: 'name_conflict' } });
    expect(state.status === 'open' ? state.nodes.size : 0).toBe(2);
    expect(open.status === 'open' ? open.nodes.size : 0).toBe(1);
  });
});
