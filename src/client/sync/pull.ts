import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import type { ChangesAnswer } from '../api/codecs.js';
import { fsyncDir, isErrno } from '../state/files.js';
import { decodeEvent, applyRemoteEvent, remotePath } from '../remote/tree.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { sleep } from './sleep.js';
import { absPath, type SyncContext } from './context.js';
import { batchable, partition } from './batching.js';
import { materialize, type Download, type Outcome } from './materialize.js';
import { materializeMany } from './materializeMany.js';
import { diffSynced, placeNodes, removeDeadFiles, removeDeadFolders } from './structure.js';

const PAGE = 5000;
// A long pull (a first sync) starts its downloads after this many events, not after the last page.
const FIRST_PAGE = 1000;
// While a long download runs, its progress reaches the journal this often: a crash redoes less.
const FLUSH_EVERY_MS = 2000;

/**
 * The pages of events after cursor, the first of at most firstLimit events; each next page is
 * fetched while the one before is handled (awaited, and its failure thrown, when it is its turn).
 */
async function* pagesAfter(ctx: Pick<SyncContext, 'api'>, cursor: number, firstLimit: number): AsyncGenerator<ChangesAnswer> {
  let next = ctx.api.changes(cursor, firstLimit);
  for (;;) {
    const page = await next;
    const more = page.hasMore && page.events.length > 0;
    if (more) (next = ctx.api.changes(page.cursor, PAGE)).catch(() => undefined);
    yield page;
    if (!more) return;
  }
}

/**
 * Pulls every event after the stored cursor into the remote tree, page by page; each page and its
 * cursor reach the journal together. Answers how many events were applied.
 */
export const pullChanges = async (ctx: Pick<SyncContext, 'api' | 'state'>, options: { durable?: boolean } = {}): Promise<number> => {
  let applied = 0;
  for await (const page of pagesAfter(ctx, ctx.state.cursor, PAGE)) {
    await applyPage(ctx, page, options.durable !== false);
    applied += page.events.length;
  }
  return applied;
};

/**
 * Pulls, and pulls again every everyMs, while `until` (a long push) is under way: what this device
 * commits comes back a batch at a time while it waits on the server, instead of all at once after
 * the last commit (10,000 events, 0.4 s of a first sync's end). Only a head start: a failure is left
 * to the pull that follows the push, which meets it again and reports it.
 */
export const pullMeanwhile = async (ctx: Pick<SyncContext, 'api' | 'state' | 'stop'>, until: Promise<unknown>, everyMs = 250): Promise<number> => {
  let settled = false;
  const over = until.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  let applied = 0;
  try {
    while (!settled) {
      applied += await pullChanges(ctx);
      if (!settled) await Promise.race([over, sleep(everyMs, ctx.stop)]);
    }
  } catch {
    // See above: the pull after the push reports it.
  }
  return applied;
};

/** Applies a page of events to the remote tree and records its cursor (durably unless told not to). */
const applyPage = async (ctx: Pick<SyncContext, 'state'>, page: ChangesAnswer, durable: boolean): Promise<void> => {
  for (const event of page.events) {
    const decoded = decodeEvent(event);
    if (decoded !== null) applyRemoteEvent(ctx.state, decoded);
  }
  if (page.events.length === 0) return;
  ctx.state.setCursor(page.cursor);
  if (durable) await ctx.state.flush();
};

/**
 * Pulls every event after the stored cursor and makes the folder what they say (reconcile). A long
 * pull (a first sync) is reconciled as it comes: after its first, short page, then whenever it has
 * pulled as many events again as it had at the last reconcile, and at the end; the next page is
 * always fetched meanwhile. So a first sync's downloads start within a page, not once the whole
 * log has been read, and a pull of n events reconciles O(log n) times. The tree a reconcile sees is
 * the workspace as it was at that page's cursor, a state that existed (every event applied in
 * order); what later pages change, a file deleted after it was created, the next reconcile changes.
 */
export const pullAndReconcile = async (ctx: SyncContext): Promise<{ pulled: number } & ReconcileResult> => {
  const total = { pulled: 0, changed: 0, conflicts: 0, deferred: 0 };
  let reconciled = 0;
  for await (const page of pagesAfter(ctx, ctx.state.cursor, FIRST_PAGE)) {
    await applyPage(ctx, page, true);
    total.pulled += page.events.length;
    const last = !page.hasMore || page.events.length === 0;
    if (last || total.pulled - reconciled >= Math.max(FIRST_PAGE, reconciled)) {
      const r = await reconcile(ctx);
      total.changed += r.changed;
      total.conflicts += r.conflicts;
      total.deferred += r.deferred;
      reconciled = total.pulled;
    }
  }
  return total;
};

/**
 * fsyncs the folders files were renamed into, then writes the journal that records them; then lets
 * go of the files those renames replaced (closed in the background: freeing them is the
 * filesystem's business, nothing waits for it).
 */
export const checkpoint = async (ctx: SyncContext): Promise<void> => {
  const dirs = [...ctx.dirtyDirs];
  ctx.dirtyDirs.clear();
  try {
    await forEachLimit(dirs, 8, (dir) => fsyncDir(dir).catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e))));
    await ctx.state.flush();
  } finally {
    for (const fd of ctx.replaced.splice(0)) fsSync.close(fd, () => undefined);
  }
};

export interface ReconcileResult {
  /** Local files and folders created, replaced, moved or removed. */
  readonly changed: number;
  readonly conflicts: number;
  /** Downloads left for a later round (a damaged chunk, a version superseded meanwhile). */
  readonly deferred: number;
}

/** The files whose pulled version this folder does not have yet, where they go. */
export const downloadsDue = (ctx: Pick<SyncContext, 'state' | 'config' | 'rules'>): Download[] => {
  const { state, config } = ctx;
  const due: Download[] = [];
  for (const node of state.remote.values()) {
    if (node.kind !== 'file' || node.trashedBy !== null || node.version === null) continue;
    const at = state.pathOfNode.get(node.nodeId);
    const synced = at === undefined ? undefined : state.synced.get(at);
    if (synced?.kind === 'file' && synced.versionId === node.version.versionId) continue;
    const target = remotePath(state, config.rootId, node.nodeId);
    if (target === null || (at !== undefined && at !== target) || ctx.rules.ignores(target, false)) continue;
    due.push({ nodeId: node.nodeId, path: target, version: node.version });
  }
  return due;
};

/**
 * Makes the folder what the pulled tree says, where this device has not changed it since the last
 * sync: deletions, then moves and new folders (local renames), then new versions (chunks copied
 * from local files where they exist, the rest downloaded). Runs only on a tree pulled to the end.
 */
export const reconcile = async (ctx: SyncContext): Promise<ReconcileResult> => {
  const { dead, moved } = diffSynced(ctx);
  let changed = await removeDeadFiles(ctx, dead);
  changed += await placeNodes(ctx, moved, (rel, isDir) => ctx.rules.ignores(rel, isDir));
  changed += await removeDeadFolders(ctx, dead);
  for (const kept of [...ctx.state.kept]) if (!(await fs.stat(absPath(ctx, kept)).catch(() => null))?.isDirectory()) ctx.state.setKept(kept, false);
  await ctx.state.flush();

  const due = downloadsDue(ctx);
  let conflicts = 0;
  let deferred = 0;
  if (due.length > 0) {
    const progress = ctx.reporter.transfer('download', due.reduce((sum, d) => sum + d.version.size, 0), due.length);
    let lastFlush = Date.now();
    const done = async (outcome: Outcome): Promise<void> => {
      if (outcome === 'conflict') conflicts++;
      if (outcome === 'skipped') deferred++;
      else changed++;
      if (Date.now() - lastFlush > FLUSH_EVERY_MS) {
        lastFlush = Date.now();
        await checkpoint(ctx);
      }
    };
    try {
      // Small files first: many finish early, and the big ones can then copy chunks from them. The
      // small ones keep the order they were committed in (the pulled tree's): chunks committed
      // together are stored together (a pack per upload request), and fetched together they are
      // read in a few long reads instead of one short read in each of many packs.
      const [small, large] = partition(due, (d) => batchable(ctx, d.version.size));
      large.sort((a, b) => a.version.size - b.version.size);
      await materializeMany(ctx, small, progress, done);
      await forEachLimit(large, ctx.options.fileConcurrency, async (item) => done(await materialize(ctx, item, progress)));
    } finally {
      progress.done();
      await checkpoint(ctx);
    }
  }
  return { changed, conflicts, deferred };
};
