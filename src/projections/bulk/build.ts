import type pg from 'pg';
import type { FoldMode } from './batchFolder.js';
import { copyInBinary } from './copyIn.js';
import type { TreeRows } from './fold.js';
import { defaultFoldWorkers, type Folder, inThreadFolder, workerFolder } from './folders.js';
import { workspaceRawBatches } from './read.js';
import { type CopyChunks, copyStatement } from './rows.js';

const IDENT = /^[a-z_][a-z0-9_]*$/;
// Batches handed to one folder before it answers: one being folded, one waiting.
const BATCHES_PER_FOLDER = 2;

export interface BulkReadOptions {
  /** Events per batch read from the log. */
  readonly pageSize?: number;
  /** Worker threads that parse, decode and fold (0: this thread does). Default: one per core, up to 4. */
  readonly workers?: number;
  readonly onProgress?: (events: number) => void;
  readonly signal?: AbortSignal;
}

export interface BulkBuildOptions extends BulkReadOptions {
  /** A folder hands its rows over once this many bytes are buffered. */
  readonly flushBytes?: number;
}

export interface BulkBuildResult {
  readonly events: number;
  readonly workspaces: number;
}

/** Where folded rows go, and what the reading waits on while they pile up. */
interface RowSink {
  readonly flushBytes: number;
  write(copy: CopyChunks): void;
  /** Resolves once the rows handed over are few enough to read on; rejects when writing failed. */
  drained(): Promise<void>;
}

/**
 * Reads every workspace stream in one snapshot (two connections) and hands the batches to folders,
 * worker threads that parse, decode and (in 'rows' mode) fold them, most of the CPU a rebuild costs
 * Node. A stream split over several batches goes to one folder, in order; other batches go to the
 * least busy. Memory holds a few batches per folder, the open workspace of each and what the sink
 * has not written yet.
 */
const foldLog = async (pool: pg.Pool, mode: FoldMode, options: BulkReadOptions, sink: RowSink | null): Promise<BulkBuildResult> => {
  const workers = options.workers ?? defaultFoldWorkers();
  const readers = [await pool.connect(), await pool.connect()];
  const folders: Folder[] = [];
  let failed: unknown = null;
  const fail = (e: unknown) => {
    failed ??= e;
  };
  const check = () => {
    if (options.signal?.aborted) fail(options.signal.reason ?? new Error('aborted'));
    if (failed !== null) throw failed;
  };
  const flushBytes = sink?.flushBytes ?? Number.MAX_SAFE_INTEGER;
  try {
    for (let i = 0; i < Math.max(1, workers); i++) folders.push(workers > 0 ? workerFolder(mode) : inThreadFolder(mode));
    const pending = folders.map((): Promise<void>[] => []);
    let events = 0;
    let last = 0;
    for await (const batch of workspaceRawBatches(readers, options.pageSize ?? 5000)) {
      check();
      const continues = (batch.ranges[0]?.after ?? 0) > 0;
      const w = continues ? last : pending.reduce((best, p, i) => (p.length < (pending[best] as Promise<void>[]).length ? i : best), (last + 1) % folders.length);
      last = w;
      const queue = pending[w] as Promise<void>[];
      while (queue.length >= BATCHES_PER_FOLDER) await queue[0];
      await sink?.drained().catch(fail);
      check();
      const folded = (folders[w] as Folder)
        .fold(batch, flushBytes)
        .then((f) => {
          events += f.events;
          options.onProgress?.(events);
          if (f.copy !== null) sink?.write(f.copy);
        })
        .catch(fail)
        .finally(() => queue.splice(queue.indexOf(folded), 1));
      queue.push(folded);
    }
    await Promise.all(pending.flat());
    check();
    let workspaces = 0;
    for (const folder of folders) {
      const f = await folder.finish();
      workspaces += f.workspaces;
      sink?.write(f.copy);
    }
    return { events, workspaces };
  } finally {
    await Promise.all(folders.map((f) => f.close()));
    for (const reader of readers) reader.release();
  }
};

/**
 * Reads and decodes the whole log as bulkBuildTree does, with its readers and folders, and applies
 * nothing: what a rebuild costs beyond reading the log is measured against this (bench/rebuild.ts).
 */
export const bulkReadLog = (pool: pg.Pool, options: BulkReadOptions = {}): Promise<BulkBuildResult> => foldLog(pool, 'decode', options, null);

/**
 * Builds the tree projection's rows into targetSchema's (empty, preferably index-free) tables from
 * the whole log: each workspace is folded in memory (bulk/fold.ts) and its final rows are COPYed in
 * binary, instead of one UPDATE per event. Reading and folding as in foldLog; this thread writes on
 * two more connections, the tables split between them.
 * The rows reflect the log as of one snapshot; targetSchema.workspaces.cursor says how far each
 * workspace got, for a catch-up to continue from.
 */
export const bulkBuildTree = async (pool: pg.Pool, targetSchema: string, options: BulkBuildOptions = {}): Promise<BulkBuildResult> => {
  if (!IDENT.test(targetSchema)) throw new Error(`invalid schema name ${targetSchema}`);
  const flushBytes = options.flushBytes ?? 8 * 1024 * 1024;
  const writers = [await pool.connect(), await pool.connect()];
  const writerOf: Record<keyof TreeRows, number> = { versions: 0, workspaces: 0, trash: 0, chunk_refs: 1, nodes: 1 };
  const writing = writers.map((): Promise<void> => Promise.resolve());
  let queuedBytes = 0;
  let failed: unknown = null;
  const sink: RowSink = {
    flushBytes,
    write: (copy) => {
      for (const [i, writer] of writers.entries()) {
        const mine = copy.filter(([table]) => writerOf[table] === i);
        if (mine.length === 0) continue;
        const bytes = mine.reduce((sum, [, chunks]) => sum + chunks.reduce((s, c) => s + c.byteLength, 0), 0);
        queuedBytes += bytes;
        writing[i] = (writing[i] as Promise<void>).then(async () => {
          try {
            if (failed === null) for (const [table, chunks] of mine) await copyInBinary(writer, copyStatement(targetSchema, table), chunks);
          } catch (e) {
            failed ??= e;
          } finally {
            queuedBytes -= bytes;
          }
        });
      }
    },
    // Rows waiting to be written are bounded too: the readers pause while Postgres catches up.
    drained: async () => {
      if (queuedBytes > 4 * flushBytes) await Promise.all(writing);
      if (failed !== null) throw failed;
    },
  };
  try {
    // The new tables are worthless until a switch commits them, and that commit (synchronous)
    // flushes the WAL written before it: the bulk load need not wait for a flush at each COPY.
    for (const w of writers) await w.query('SET synchronous_commit = off');
    const result = await foldLog(pool, 'rows', options, sink);
    await Promise.all(writing);
    if (failed !== null) throw failed;
    return result;
  } finally {
    await Promise.all(writing);
    for (const writer of writers) {
      await writer.query('RESET synchronous_commit').catch(() => undefined);
      writer.release();
    }
  }
};
