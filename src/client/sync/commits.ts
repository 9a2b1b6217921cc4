import type { CommitAnswer } from '../api/codecs.js';
import { ServerRefusal } from '../api/errors.js';
import type { PendingCommit } from '../state/model.js';
import { FileChanged, sendCommit } from '../transfer/upload.js';
import type { SyncContext, TransferProgress } from './context.js';

/**
 * Refusals that mean "the server moved on since the last pull" (or the file under us did): the
 * step is dropped, and the next round pulls, reconciles and plans again from what is there now.
 */
const STALE = new Set(['version_conflict', 'not_found', 'name_conflict', 'cycle', 'gone', 'missing_chunks']);
export const isStale = (e: unknown): boolean => e instanceof FileChanged || (e instanceof ServerRefusal && STALE.has(e.code));

export interface PushResult {
  /** Calls that changed the server. */
  readonly done: number;
  /** Steps dropped because the server or the file changed meanwhile: another round is due. */
  readonly stale: number;
}

/** The server took the commit: its file is synced at this version. */
export const recordCommitted = (ctx: SyncContext, pending: PendingCommit, answer: Pick<CommitAnswer, 'fileId' | 'versionId'>, progress: TransferProgress): void => {
  ctx.state.setSynced(pending.path, {
    kind: 'file',
    nodeId: answer.fileId,
    versionId: answer.versionId,
    contentHash: pending.contentHash,
    chunks: pending.chunks,
    stat: pending.stat,
    localCuts: true,
  });
  ctx.state.dropPending(pending.key);
  for (const c of pending.chunks) ctx.uploaded.delete(c.hash);
  progress.advance(0, 1);
};

/**
 * The server or the file moved on under a commit: it is dropped and planned again next round.
 * Any other failure is rethrown, the commit kept in the journal to be resumed.
 */
export const dropStale = (ctx: SyncContext, pending: PendingCommit, e: unknown): 'stale' => {
  if (!isStale(e)) throw e;
  if (e instanceof ServerRefusal && e.code === 'version_conflict') ctx.reporter.info(`${pending.path} changed on another device too: pulling that version first`);
  ctx.state.dropPending(pending.key);
  return 'stale';
};

/**
 * Sends one prepared commit (its chunks first, as the server lacks them) and records its answer.
 * resumed: found in the journal after a restart. Answers whether the server took it.
 */
export const runCommit = async (ctx: SyncContext, pending: PendingCommit, progress: TransferProgress, resumed: boolean): Promise<'done' | 'stale'> => {
  let answer: CommitAnswer;
  try {
    answer = await sendCommit(ctx, pending, progress, resumed);
  } catch (e) {
    return dropStale(ctx, pending, e);
  }
  recordCommitted(ctx, pending, answer, progress);
  return 'done';
};
