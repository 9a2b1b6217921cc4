import type { BatchCommitResult } from '../api/codecs.js';
import { ServerRefusal } from '../api/errors.js';
import type { PendingCommit } from '../state/model.js';
import { sendMissingChunks } from '../transfer/batchUpload.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { commitBodyOf, FileChanged } from '../transfer/upload.js';
import { groupsOf, isMissingRoute, withoutBatchCalls } from './batching.js';
import { dropStale, isStale, recordCommitted, runCommit, type PushResult } from './commits.js';
import type { SyncContext, TransferProgress } from './context.js';

/** A batch: what one commit_batch commits, and one journal line prepares. */
const BATCH_FILES = 500;
const BATCH_BYTES = 64 * 1024 * 1024;
/** Batches under way at once: one uploads its chunks while another commits. */
export const BATCHES_IN_FLIGHT = 4;
const COMMITS_PER_CALL = 1000;

/** Items in order, cut into the batches sendCommitBatch takes. */
export const batchesOf = <T>(items: readonly T[], bytesOf: (item: T) => number): T[][] => groupsOf(items, bytesOf, BATCH_FILES, BATCH_BYTES);

/** The results of these commits, in their order, from as few commit_batch calls as they need. */
const commitAll = async (ctx: SyncContext, pendings: readonly PendingCommit[]): Promise<BatchCommitResult[]> => {
  const results: BatchCommitResult[] = [];
  for (let i = 0; i < pendings.length; i += COMMITS_PER_CALL) {
    const slice = pendings.slice(i, i + COMMITS_PER_CALL);
    const answer = await ctx.commitSlot(() => ctx.api.commitBatch(slice.map(commitBodyOf)));
    if (answer.results.length !== slice.length) throw new Error(`commit_batch answered ${answer.results.length} results for ${slice.length} commits`);
    results.push(...answer.results);
  }
  return results;
};

/**
 * Sends a batch of prepared commits of small files, their keys already in the journal: the chunks
 * the workspace lacks in a few requests of many chunks, then every commit in one commit_batch.
 * Each result is recorded as a single commit's answer would be (taken: synced; stale: dropped and
 * planned again; any other refusal: thrown once the others are recorded, the commit kept in the
 * journal). resumed: found in the journal after a restart, so committed first as they are: those
 * that went through are answered as they were then, and nothing of them is uploaded again.
 */
export const sendCommitBatch = async (ctx: SyncContext, batch: readonly PendingCommit[], progress: TransferProgress, resumed: boolean): Promise<PushResult> => {
  let done = 0;
  let stale = 0;
  const refused: ServerRefusal[] = [];
  const record = (pending: PendingCommit, result: BatchCommitResult, upload: PendingCommit[] | null): void => {
    if (!('error' in result)) {
      recordCommitted(ctx, pending, result, progress);
      done++;
      return;
    }
    const refusal = new ServerRefusal(result.status, result.error.code, result.error.message, result.error.details ?? {});
    if (upload !== null && refusal.code === 'missing_chunks') upload.push(pending);
    else if (isStale(refusal)) {
      dropStale(ctx, pending, refusal);
      stale++;
    } else refused.push(refusal);
  };
  const viaBatchCalls = async (): Promise<void> => {
    let toUpload: PendingCommit[] = [...batch];
    if (resumed) {
      toUpload = [];
      const results = await commitAll(ctx, batch);
      batch.forEach((pending, i) => record(pending, results[i] as BatchCommitResult, toUpload));
    }
    if (toUpload.length > 0) {
      const changed = await sendMissingChunks(ctx, toUpload, progress);
      const toCommit = toUpload.filter((p) => !changed.has(p.key));
      for (const p of toUpload)
        if (changed.has(p.key)) {
          dropStale(ctx, p, new FileChanged(`${p.path} changed while it was being uploaded`));
          stale++;
        }
      if (toCommit.length > 0) {
        const results = await commitAll(ctx, toCommit);
        toCommit.forEach((pending, i) => record(pending, results[i] as BatchCommitResult, null));
      }
    }
  };
  const oneByOne = async (pendings: readonly PendingCommit[]) =>
    forEachLimit(pendings, ctx.options.fileConcurrency, async (p) => {
      if ((await runCommit(ctx, p, progress, resumed)) === 'done') done++;
      else stale++;
    });
  try {
    if (!ctx.batchCalls) await oneByOne(batch);
    else await viaBatchCalls();
  } catch (e) {
    if (!isMissingRoute(e)) throw e;
    withoutBatchCalls(ctx);
    await oneByOne(batch.filter((p) => ctx.state.pending.has(p.key)));
  } finally {
    await ctx.state.flush();
  }
  if (refused[0] !== undefined) throw refused[0];
  return { done, stale };
};
