import crypto from 'node:crypto';
import type { CommitAnswer } from '../api/codecs.js';
import { ServerRefusal } from '../api/errors.js';
import type { CommitBody } from '../api/v1.js';
import type { PendingCommit } from '../state/model.js';
import { absPath, type SyncContext, type TransferProgress } from '../sync/context.js';
import { readRange } from './download.js';
import { heldByServer } from './uploadAhead.js';

/** The local file no longer holds the bytes described when the commit was prepared: describe it again. */
export class FileChanged extends Error {
  override readonly name = 'FileChanged';
}

const sizeOf = (pending: PendingCommit): number => pending.chunks.reduce((sum, c) => sum + c.size, 0);

/** What commit (or one item of commit_batch) is sent for a prepared commit. */
export const commitBodyOf = (pending: PendingCommit): CommitBody => ({
  parentId: pending.parentId,
  name: pending.name,
  fileId: pending.fileId,
  baseVersionId: pending.baseVersionId,
  chunks: pending.chunks,
  size: sizeOf(pending),
  modifiedAt: new Date(pending.stat.mtimeMs).toISOString(),
  idempotencyKey: pending.key,
});

const commit = (ctx: SyncContext, pending: PendingCommit): Promise<CommitAnswer> => ctx.commitSlot(() => ctx.api.commit(commitBodyOf(pending)));

/** Sends the chunks upload_request says the workspace lacks, read from the file and checked against their hash. */
const sendMissing = async (ctx: SyncContext, pending: PendingCommit, progress: TransferProgress): Promise<void> => {
  const answer = await ctx.api.uploadRequest(pending.parentId, pending.name, sizeOf(pending), pending.chunks);
  const missing = new Set(answer.missing);
  const seen = new Set<string>();
  const file = absPath(ctx, pending.path);
  const sends: Promise<void>[] = [];
  for (const chunk of pending.chunks) {
    if (seen.has(chunk.hash)) continue;
    seen.add(chunk.hash);
    const url = answer.uploadUrls[chunk.hash];
    if (!missing.has(chunk.hash) || url === undefined) {
      progress.advance(chunk.size);
      continue;
    }
    sends.push(
      ctx.chunkSlot(async () => {
        const bytes = await readRange(file, chunk.offset, chunk.size);
        if (bytes === null || crypto.createHash('sha256').update(bytes).digest('hex') !== chunk.hash)
          throw new FileChanged(`${pending.path} changed while it was being uploaded`);
        await ctx.api.putChunk(url, bytes);
        progress.advance(chunk.size);
      }),
    );
  }
  const settled = await Promise.allSettled(sends);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
};

/**
 * Uploads what the server lacks of a prepared commit and commits it with its idempotency key.
 * resumed: a commit found in the journal after a restart is first sent as it is: if it already
 * went through, the server answers as it did then, and nothing is uploaded again.
 */
export const sendCommit = async (ctx: SyncContext, pending: PendingCommit, progress: TransferProgress, resumed = false): Promise<CommitAnswer> => {
  // Every chunk already in a synced file (a copy, a version restored by hand): the workspace holds
  // them (so does it those sent ahead while the file was described), so the commit goes first and
  // upload_request only if the server says otherwise.
  const held = await heldByServer(ctx, pending.chunks);
  if (resumed || held || pending.chunks.length === 0) {
    try {
      return await commit(ctx, pending);
    } catch (e) {
      if (!(e instanceof ServerRefusal && e.code === 'missing_chunks')) throw e;
    }
  }
  for (let attempt = 0; ; attempt++) {
    await sendMissing(ctx, pending, progress);
    try {
      return await commit(ctx, pending);
    } catch (e) {
      // Held chunks can lapse between the two calls (a very slow upload): ask again, once.
      if (!(e instanceof ServerRefusal && e.code === 'missing_chunks') || attempt > 0) throw e;
    }
  }
};
