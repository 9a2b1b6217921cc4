import type pg from 'pg';
import type { WorkspaceEvent } from '../domain/workspace/events.js';
import type { StoredEvent } from '../storage/eventlog/types.js';
import { applyTreeEvent } from './tree/apply.js';

/** A read model built from the workspace events: its tables (all in one schema) and how an event changes them. */
export interface Projection {
  readonly name: string;
  readonly tables: readonly string[];
  apply(client: pg.ClientBase, schema: string, event: StoredEvent<WorkspaceEvent>): Promise<void>;
}

/**
 * The folder tree with its versions, chunk references and trash is one projection: a subtree delete
 * or purge changes all of them together, so they are rebuilt together.
 */
export const treeProjection: Projection = {
  name: 'tree',
  tables: ['workspaces', 'nodes', 'versions', 'chunk_refs', 'trash'],
  apply: applyTreeEvent,
};

export const projections: readonly Projection[] = [treeProjection];

export const projectionNamed = (name: string): Projection | undefined => projections.find((p) => p.name === name);
