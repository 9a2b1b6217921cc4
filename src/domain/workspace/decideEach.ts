import * as E from 'fp-ts/lib/Either.js';
import type { DomainError } from '../errors.js';
import type { NodeId } from '../ids.js';
import type { WorkspaceCommand } from './commands.js';
import { decide } from './decide.js';
import type { WorkspaceEvent } from './events.js';
import { changeOf, evolve, NO_CHANGE } from './evolve.js';
import type { NodeView, WorkspaceState } from './state.js';

/**
 * Decides commands one after the other, each against the state the accepted ones before it left
 * (a batch: one refused command does not refuse the others). The same answers as decide and evolve
 * in turn; but the node map is copied once for the whole run, not once per event (500 copies of a
 * map growing to 600 nodes, for a batch of 500 new files), then changed in place: it is this
 * function's own until it returns.
 */
export const decideEach = (
  commands: readonly WorkspaceCommand[],
  from: WorkspaceState,
): { readonly decisions: readonly E.Either<DomainError, WorkspaceEvent[]>[]; readonly state: WorkspaceState } => {
  let state = from;
  let own: Map<NodeId, NodeView> | null = null;
  const decisions = commands.map((command) => {
    const decision = decide(command, state);
    if (E.isLeft(decision)) return decision;
    for (const event of decision.right) {
      if (event.type === 'WorkspaceCreated' || state.status !== 'open') {
        state = evolve(state, event);
        own = null;
        continue;
      }
      const change = changeOf(state, event);
      if (change === NO_CHANGE) continue;
      own ??= new Map(state.nodes);
      for (const node of change.nodes) own.set(node.nodeId, node);
      state = { ...state, nodes: own, usedBytes: state.usedBytes + change.usedDelta };
    }
    return decision;
  });
  return { decisions, state };
};
