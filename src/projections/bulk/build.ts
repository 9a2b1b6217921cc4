import type pg from 'pg';
import { copyIn } from './copyIn.js';
import { WorkspaceFold, type TreeRows } from './fold.js';
import { workspaceEventBatches } from './read.js';
import { CopyBuffers, TREE_COLUMNS } from './rows.js';

const IDENT = /^[a-z_][a-z0-9_]*$/;
const WORKSPACE_STREAM = 'workspace-';

export interface BulkBuildOptions {
  /** Events per batch read from the log. */
  readonly pageSize?: number;
  /** COPY once this much row text is buffered. */
  readonly flushBytes?: number;
  readonly onProgress?: (events: number) => void;
  readonly signal?: AbortSignal;
}

export interface BulkBuildResult {
  readonly events: number;
  readonly workspaces: number;
}

/**
 * Builds the tree projection's rows into targetSchema's (empty, preferably index-free) tables from
 * the whole log: each workspace is folded in memory (bulk/fold.ts) and its final rows are COPYed,
 * instead of one UPDATE per event. Memory holds one workspace, a few batches of events and the rows
 * waiting to be copied. Uses four connections of the pool: two read, two write.
 * The rows reflect the log as of one snapshot; targetSchema.workspaces.cursor says how far each
 * workspace got, for a catch-up to continue from.
 */
export const bulkBuildTree = async (pool: pg.Pool, targetSchema: string, options: BulkBuildOptions = {}): Promise<BulkBuildResult> => {
  if (!IDENT.test(targetSchema)) throw new Error(`invalid schema name ${targetSchema}`);
  const readers = [await pool.connect(), await pool.connect()];
  // Two writers, the big tables split between them, so Postgres copies on two backends at once.
  const writers = [await pool.connect(), await pool.connect()];
  const writerOf: Record<keyof TreeRows, number> = { versions: 0, workspaces: 0, trash: 0, chunk_refs: 1, nodes: 1 };
  // The new tables are worthless until a switch commits them, and that commit (synchronous) flushes
  // the WAL written before it: the bulk load need not wait for a flush at each COPY.
  for (const w of writers) await w.query('SET synchronous_commit = off');
  const buffers = new CopyBuffers();
  const flushBytes = options.flushBytes ?? 8 * 1024 * 1024;
  let writing: Promise<unknown> = Promise.resolve();
  let failed: unknown = null;
  const flush = async () => {
    await writing;
    if (failed !== null) throw failed;
    const batch = [...buffers.take()];
    // One batch in flight: Postgres copies it while the next workspaces are read and folded.
    writing = Promise.all(
      writers.map(async (writer, i) => {
        for (const [table, chunks] of batch)
          if (writerOf[table] === i)
            await copyIn(writer, `COPY ${targetSchema}.${table} (${TREE_COLUMNS[table].columns.join(', ')}) FROM STDIN`, chunks);
      }),
    ).catch((e: unknown) => {
      failed = e;
    });
  };
  let events = 0;
  let workspaces = 0;
  let fold: WorkspaceFold | null = null;
  let streamId = '';
  try {
    for await (const page of workspaceEventBatches(readers, options.pageSize ?? 5000)) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      for (const e of page) {
        if (e.streamId !== streamId) {
          if (fold !== null) buffers.add(fold.rows());
          streamId = e.streamId;
          fold = new WorkspaceFold(streamId.slice(WORKSPACE_STREAM.length));
          workspaces++;
        }
        (fold as WorkspaceFold).apply(e);
      }
      events += page.length;
      if (buffers.bytes >= flushBytes) await flush();
      options.onProgress?.(events);
    }
    if (fold !== null) buffers.add(fold.rows());
    await flush();
    await writing;
    if (failed !== null) throw failed;
    return { events, workspaces };
  } finally {
    await writing;
    for (const reader of readers) reader.release();
    for (const writer of writers) {
      await writer.query('RESET synchronous_commit').catch(() => undefined);
      writer.release();
    }
  }
};
