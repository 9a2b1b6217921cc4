import type pg from 'pg';
import type { WorkspaceEvent } from '../../domain/workspace/events.js';
import { readStream } from '../../storage/eventlog/postgres/read.js';
import type { StoredEvent } from '../../storage/eventlog/types.js';
import { workspaceEventSchema, workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import { TreeFold } from './fold.js';

export type WorkspaceEvents = AsyncIterable<StoredEvent<WorkspaceEvent>> | Iterable<StoredEvent<WorkspaceEvent>>;

/** A workspace as it was at a moment: the fold of its stream up to that moment. */
export type HistoricalTree = TreeFold;

const recordedAfter = (e: StoredEvent<WorkspaceEvent>, at: Date): boolean => Date.parse(e.metadata.at) > at.getTime();

// A stream is a sequence: reading stops at the first event recorded after `at`, never applying a later one out of its context.
/** The workspace as it was at `at`: its events (stream order) folded up to the first one recorded after `at` (metadata.at). */
export const treeAt = async (events: WorkspaceEvents, at: Date): Promise<HistoricalTree> => {
  const tree = new TreeFold();
  for await (const e of events) {
    if (recordedAfter(e, at)) break;
    tree.apply(e.event, { version: e.version, at: e.metadata.at });
  }
  return tree;
};

/** The workspace at `at` and as it is now (after the last event), from one pass over the events. */
export const treeThenAndNow = async (events: WorkspaceEvents, at: Date): Promise<{ then: HistoricalTree; now: HistoricalTree }> => {
  const then = new TreeFold();
  const now = new TreeFold();
  let past = true;
  for await (const e of events) {
    past = past && !recordedAfter(e, at);
    const place = { version: e.version, at: e.metadata.at };
    if (past) then.apply(e.event, place);
    now.apply(e.event, place);
  }
  return { then, now };
};

/** A workspace's events from its stream in the log, oldest first, read a page at a time (stop early by breaking out). */
export async function* workspaceEvents(db: pg.Pool | pg.ClientBase, workspaceId: string, pageSize = 2000): AsyncGenerator<StoredEvent<WorkspaceEvent>> {
  const streamId = workspaceStreamId(workspaceId);
  for (let after = 0; ; ) {
    const page = await readStream(db, workspaceEventSchema, streamId, after, pageSize);
    yield* page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < pageSize) return;
    after = last.version;
  }
}
