import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { ServerRefusal } from '../api/errors.js';
import { baseOf, parentOf } from '../local/names.js';
import type { PendingCommit } from '../state/model.js';
import { forEachLimit } from '../transfer/limit.js';
import { FileChanged, sendCommit } from '../transfer/upload.js';
import { absPath, type SyncContext, type TransferProgress } from './context.js';
import type { PushPlan } from './plan.js';

/**
 * Refusals that mean "the server moved on since the last pull" (or the file under us did): the
 * step is dropped, and the next round pulls, reconciles and plans again from what is there now.
 */
const STALE = new Set(['version_conflict', 'not_found', 'name_conflict', 'cycle', 'gone', 'missing_chunks']);
const isStale = (e: unknown): boolean => e instanceof FileChanged || (e instanceof ServerRefusal && STALE.has(e.code));

const UPLOAD_BATCH = 128;

export interface PushResult {
  /** Calls that changed the server. */
  readonly done: number;
  /** Steps dropped because the server or the file changed meanwhile: another round is due. */
  readonly stale: number;
}

/** The node id of the synced folder at rel, or null when it is not synced (yet). */
const folderId = (ctx: SyncContext, rel: string): string | null => {
  if (rel === '') return ctx.config.rootId;
  const entry = ctx.state.synced.get(rel);
  return entry?.kind === 'folder' ? entry.nodeId : null;
};

/**
 * Sends a prepared commit and records its answer. resumed: found in the journal after a restart.
 * Answers whether the server took it.
 */
export const runCommit = async (ctx: SyncContext, pending: PendingCommit, progress: TransferProgress, resumed: boolean): Promise<'done' | 'stale'> => {
  try {
    const answer = await sendCommit(ctx, pending, progress, resumed);
    ctx.state.setSynced(pending.path, {
      kind: 'file',
      nodeId: answer.fileId,
      versionId: answer.versionId,
      contentHash: pending.contentHash,
      chunks: pending.chunks,
      stat: pending.stat,
    });
    ctx.state.dropPending(pending.key);
    progress.advance(0, 1);
    return 'done';
  } catch (e) {
    if (!isStale(e)) throw e;
    if (e instanceof ServerRefusal && e.code === 'version_conflict')
      ctx.reporter.info(`${pending.path} changed on another device too: pulling that version first`);
    ctx.state.dropPending(pending.key);
    return 'stale';
  }
};

/** Commits found in the journal at start: sent again with their keys (the server answers at most once). */
export const resumeCommits = async (ctx: SyncContext): Promise<PushResult> => {
  const pending = [...ctx.state.pending.values()];
  if (pending.length === 0) return { done: 0, stale: 0 };
  ctx.reporter.info(`resuming ${pending.length} upload(s) interrupted earlier`);
  const progress = ctx.reporter.transfer('upload', pending.reduce((s, p) => s + p.chunks.reduce((t, c) => t + c.size, 0), 0), pending.length);
  let done = 0;
  let stale = 0;
  try {
    await forEachLimit(pending, ctx.options.fileConcurrency, async (p) => {
      if ((await runCommit(ctx, p, progress, true)) === 'done') done++;
      else stale++;
    });
  } finally {
    progress.done();
    await ctx.state.flush();
  }
  return { done, stale };
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

  for (const op of plan.folderOps) {
    const target = op.kind === 'mkdir' ? op.path : op.to;
    const parentId = folderId(ctx, parentOf(target));
    if (parentId === null) {
      stale++;
      continue;
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
    if (synced?.kind === 'file') state.setSynced(touch.path, { ...synced, stat: touch.stat, chunks: touch.chunks });
  }
  await state.flush();

  if (plan.uploads.length > 0) {
    const progress = ctx.reporter.transfer('upload', plan.uploads.reduce((s, u) => s + u.stat.size, 0), plan.uploads.length);
    try {
      for (let i = 0; i < plan.uploads.length; i += UPLOAD_BATCH) {
        const batch: PendingCommit[] = [];
        for (const op of plan.uploads.slice(i, i + UPLOAD_BATCH)) {
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
        // The keys are on disk before the first commit leaves: a retry after a crash reuses them.
        await state.flush();
        await forEachLimit(batch, ctx.options.fileConcurrency, async (pending) => {
          if ((await runCommit(ctx, pending, progress, false)) === 'done') done++;
          else stale++;
        });
        await state.flush();
      }
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
