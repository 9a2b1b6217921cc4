import crypto from 'node:crypto';
import { createCommandHandler, type HandleCommand } from '../../src/commands/handle.js';
import { createPostgresWorkspaceStore } from '../../src/commands/postgres/workspaceStore.js';
import type { WorkspaceEvent } from '../../src/domain/workspace/events.js';
import { fold } from '../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../src/domain/workspace/state.js';
import { readStream } from '../../src/storage/eventlog/postgres/read.js';
import { workspaceEventSchema, workspaceStreamId } from '../../src/storage/eventlog/workspaceSchema.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';

export const handlerFor = (db: TestDatabase): HandleCommand =>
  createCommandHandler({ store: createPostgresWorkspaceStore(db.pool), newEventId: () => crypto.randomUUID() });

export const streamEvents = async (db: TestDatabase, workspaceId: string): Promise<WorkspaceEvent[]> =>
  (await readStream(db.pool, workspaceEventSchema, workspaceStreamId(workspaceId), 0, 1_000_000)).map((e) => e.event);

/** The workspace as the fold of its whole stream: the reference the projections are held to. */
export const foldedState = async (db: TestDatabase, workspaceId: string): Promise<WorkspaceState> =>
  fold(await streamEvents(db, workspaceId), initialState());

export const newWorkspaceId = (): string => `w${crypto.randomBytes(5).toString('hex')}`;

/**
 * A database of its own for the tests of one describe block, with a command handler on it: made
 * before them (handed to ready) and dropped after.
 */
export const useWorkspaceDatabase = (ready: (db: TestDatabase, handle: HandleCommand) => void): void => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    ready(db, handlerFor(db));
  });
  afterAll(async () => db?.drop());
};
