import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { ServerRefusal } from '../api/errors.js';
import { baseOf, parentOf } from '../local/names.js';
import type { PendingCommit } from '../state/model.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { batchable, isMissingRoute, partition, withoutBatchCalls } from './batching.js';
import { batchesOf, BATCHES_IN_FLIGHT, sendCommitBatch } from './commitBatch.js';
import { sendMissingChunks } from '../transfer/batchUpload.js';
import { isStale, runCommit, type PushResult } from './commits.js';
import { absPath, type SyncContext, type TransferProgress } from './context.js';
import type { FolderOp, PushPlan, UploadOp } from './plan.js';

export type { PushResult } from './commits.js';

/** The node id of the synced folder at rel, or null when it is not synced (yet). */
const folderId = (ctx: SyncContext, rel: string): string | null => {
  if (rel === '') return ctx.config.rootId;
  const entry = ctx.state.synced.get(rel);
  return entry?.kind === 'folder' ? entry.nodeId : null;
};

// Folders made by one folders/create_batch request, at most (the server's limit).
const FOLDERS_PER_REQUEST = 1000;

// Large files' commits are prepared this many at a time (one journal line each time).
const UPLOAD_BATCH = 128;

const chunkBytes = (chunks: readonly { readonly size: number }[]): number => chunks.reduce((t, c) => t + c.size, 0);
const bytesOf = (p: PendingCommit): number => chunkBytes(p.chunks);

/**
 * Folder steps (parents first) in waves whose steps can run at once: new folders side by side. A
 * move, or a new folder inside one made in the current wave, starts the next wave.
 */
const wavesOf = (ops: readonly FolderOp[]): FolderOp[][] => {
  const waves: FolderOp[][] = [];
  let wave: FolderOp[] = [];
  let made = new Set<string>();
  for (const op of ops) {
    if (op.kind === 'move' || made.has(parentOf(op.path))) {
      if (wave.length > 0) waves.push(wave);
      [wave, made] = [[], new Set()];
    }
    if (op.kind === 'move') waves.push([op]);
    else {
      wave.push(op);
      made.add(op.path);
    }
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
};

/** Small files' commits through the batch calls, a few batches at a time; the others one by one. */
const sendPending = async (ctx: SyncContext, pending: readonly PendingCommit[], progress: TransferProgress, resumed: boolean): Promise<PushResult> => {
  let done = 0;
  let stale = 0;
  const [small, large] = partition(pending, (p) => batchable(ctx, bytesOf(p)));
  await forEachLimit(batchesOf(small, bytesOf), BATCHES_IN_FLIGHT, async (batch) => {
    const result = await sendCommitBatch(ctx, batch, progress, resumed);
    done += result.done;
    stale += result.stale;
  });
  await forEachLimit(large, ctx.options.fileConcurrency, async (p) => {
    if ((await runCommit(ctx, p, progress, resumed)) === 'done') done++;
    else stale++;
  });
  return { done, stale };
};

/** Commits found in the journal at start: sent again with their keys (the server answers at most once). */
export const resumeCommits = async (ctx: SyncContext): Promise<PushResult> => {
  const pending = [...ctx.state.pending.values()];
  if (pending.length === 0) return { done: 0, stale: 0 };
  ctx.reporter.info(`resuming ${pending.length} upload(s) interrupted earlier`);
  const progress = ctx.reporter.transfer('upload', pending.reduce((s, p) => s + bytesOf(p), 0), pending.length);
  try {
    return await sendPending(ctx, pending, progress, true);
  } finally {
    progress.done();
    await ctx.state.flush();
  }
};

const quietly: TransferProgress = { advance: () => undefined, done: () => undefined };

/**
 * Sends the chunks of the first batches of small files while the plan's folders are being made
 * (on a first sync, a hundred folders are a hundred round trips, each one the workspace's writer
 * for a moment), batch after batch until the folders are done. Neither needs the other; the
 * commits follow as usual, and their chunks/missing then finds these held. Best effort: whatever
 * fails here is sent again by the commits' own upload.
 */
const sendWhileFoldersAreMade = async (ctx: SyncContext, plan: PushPlan, folders: { readonly done: boolean }): Promise<void> => {
  if (plan.folderOps.length === 0 || !ctx.batchCalls) return;
  const small = plan.uploads.filter((op) => batchable(ctx, chunkBytes(op.chunks)));
  for (const batch of batchesOf(small, (op) => chunkBytes(op.chunks))) {
    if (folders.done) return;
    try {
      await sendMissingChunks(ctx, batch.map((op) => ({ key: op.path, path: op.path, chunks: op.chunks })), quietly);
    } catch {
      return;
    }
  }
};

/** Tells the server what the plan says, in dependency order: folders, moves, uploads, deletes. */
export const executePush = async (ctx: SyncContext, plan: PushPlan): Promise<PushResult> => {
  const { state, api } = ctx;
  let done = 0;
  let stale = 0;
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
      done++;
    } catch (e) {
      if (!isStale(e)) throw e;
      stale++;
    }
  };

  const folderStep = async (op: FolderOp): Promise<void> => {
    const target = op.kind === 'mkdir' ? op.path : op.to;
    const parentId = folderId(ctx, parentOf(target));
    if (parentId === null) {
      stale++;
      return;
    }
    await attempt(async () => {
      if (op.kind === 'move') {
        await api.move(op.nodeId, parentId, baseOf(op.to));
        state.moveSynced(op.from, op.to);
        return;
      }
      let nodeId: string;
      try {
        nodeId = (await api.createFolder(parentId, baseOf(op.path))).nodeId;
      } catch (e) {
        // Created meanwhile (by another device, or by this one before a crash): the same folder.
        if (!(e instanceof ServerRefusal && e.code === 'name_conflict')) throw e;
        const there = await api.lookup(`/${op.path}`);
        if (there.kind !== 'folder') throw e;
        nodeId = there.nodeId;
      }
      state.setSynced(op.path, { kind: 'folder', nodeId, ino: op.ino });
      state.setKept(op.path, false);
    });
  };
  /**
   * A wave of new folders in requests of up to 1,000 (folders/create_batch): answers the ones made.
   * Any other answer (a name taken meanwhile, a parent gone) is left to the one-at-a-time step,
   * which knows what each means; a server without the call, all of them.
   */
  const makeFoldersAtOnce = async (wave: readonly FolderOp[]): Promise<FolderOp[]> => {
    const made: FolderOp[] = [];
    const ready = wave.flatMap((op) => {
      const parentId = op.kind === 'mkdir' ? folderId(ctx, parentOf(op.path)) : null;
      return op.kind === 'mkdir' && parentId !== null ? [{ op, parentId }] : [];
    });
    for (let i = 0; i < ready.length; i += FOLDERS_PER_REQUEST) {
      const part = ready.slice(i, i + FOLDERS_PER_REQUEST);
      let answer;
      try {
        answer = await api.createFolders(part.map(({ op, parentId }) => ({ parentId, name: baseOf(op.path) })));
      } catch (e) {
        if (!isMissingRoute(e)) throw e;
        withoutBatchCalls(ctx);
        return made;
      }
      if (answer.results.length !== part.length) throw new Error(`folders/create_batch answered ${answer.results.length} results for ${part.length} folders`);
      answer.results.forEach((result, k) => {
        const { op } = part[k] as (typeof part)[number];
        if (result.status !== 201 || !('nodeId' in result) || op.kind !== 'mkdir') return;
        state.setSynced(op.path, { kind: 'folder', nodeId: result.nodeId, ino: op.ino });
        state.setKept(op.path, false);
        made.push(op);
        done++;
      });
    }
    return made;
  };

  const folders = { done: false };
  const early = sendWhileFoldersAreMade(ctx, plan, folders);
  try {
    for (const wave of wavesOf(plan.folderOps)) {
      const batched = new Set(wave.length > 1 && ctx.batchCalls ? await makeFoldersAtOnce(wave) : []);
      await forEachLimit(
        wave.filter((op) => !batched.has(op)),
        ctx.options.commitConcurrency,
        folderStep,
      );
    }
  } finally {
    folders.done = true;
    await early;
  }
  await state.flush();

  await forEachLimit(plan.fileMoves, ctx.options.fileConcurrency, async (op) => {
    const parentId = folderId(ctx, parentOf(op.to));
    if (parentId === null) return void stale++;
    await attempt(async () => {
      await api.move(op.nodeId, parentId, baseOf(op.to));
      state.moveSynced(op.from, op.to);
    });
  });
  for (const touch of plan.touches) {
    const synced = state.synced.get(touch.path);
    if (synced?.kind === 'file') state.setSynced(touch.path, { ...synced, stat: touch.stat, chunks: touch.chunks, localCuts: true });
  }
  await state.flush();

  if (plan.uploads.length > 0) {
    const progress = ctx.reporter.transfer('upload', plan.uploads.reduce((s, u) => s + u.stat.size, 0), plan.uploads.length);
    /** The commits of these steps, each with a fresh key, on disk before the first leaves: a retry after a crash reuses the keys. */
    const prepare = async (ops: readonly UploadOp[]): Promise<PendingCommit[]> => {
      const batch: PendingCommit[] = [];
      for (const op of ops) {
        const parentId = folderId(ctx, parentOf(op.path));
        if (parentId === null) {
          stale++;
          continue;
        }
        const pending: PendingCommit = {
          key: crypto.randomUUID(),
          path: op.path,
          parentId,
          name: baseOf(op.path),
          fileId: op.nodeId,
          baseVersionId: op.baseVersionId,
          contentHash: op.contentHash,
          chunks: op.chunks,
          stat: op.stat,
        };
        state.setPending(pending);
        batch.push(pending);
      }
      await state.flush();
      return batch;
    };
    const send = async (ops: readonly UploadOp[]): Promise<void> => {
      const result = await sendPending(ctx, await prepare(ops), progress, false);
      done += result.done;
      stale += result.stale;
    };
    try {
      const [small, large] = partition(plan.uploads, (op) => batchable(ctx, chunkBytes(op.chunks)));
      await forEachLimit(batchesOf(small, (op) => chunkBytes(op.chunks)), BATCHES_IN_FLIGHT, send);
      for (let i = 0; i < large.length; i += UPLOAD_BATCH) await send(large.slice(i, i + UPLOAD_BATCH));
    } finally {
      progress.done();
      await state.flush();
    }
  }

  await forEachLimit(plan.deletes, ctx.options.fileConcurrency, async (op) => {
    try {
      await api.deleteNode(op.nodeId);
      done++;
    } catch (e) {
      if (!(e instanceof ServerRefusal && e.code === 'not_found')) throw e;
    }
    // Make sure it really is gone here before forgetting it: it may have come back meanwhile.
    const back = await fs.lstat(absPath(ctx, op.path)).catch(() => null);
    if (back === null) state.dropSyncedWithin(op.path);
    else stale++;
  });
  await state.flush();
  return { done, stale };
};
