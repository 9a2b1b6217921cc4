import { isMissingRoute, withoutBatchCalls } from '../sync/batching.js';
import type { SyncContext } from '../sync/context.js';
import { encodeRecords } from './records.js';

// Chunks sent ahead at once: more are left to the upload after the describe, which reads them
// again. Bounds the memory the copies take (at most 4 MiB each).
const AHEAD_IN_FLIGHT = 4;
// Chunks sent ahead but not committed yet (a file that changed again meanwhile): forgotten past this.
const REMEMBERED = 10_000;

/**
 * Sends a chunk of a large file to the server as soon as the describe finds it, while the rest of
 * the file is still being read and hashed, so that the commit can go without upload_request and
 * PUT once it is described. Through the batch calls: chunks/missing first (a chunk the workspace
 * holds is never sent again: a copy, a run killed and restarted), then chunks; both while the
 * describe goes on. Best effort: skipped when too many are in flight, and a chunk that could not be
 * sent is uploaded the usual way. The bytes are copied: the caller may reuse them.
 */
export const uploadAhead = (ctx: SyncContext, hash: string, bytes: Uint8Array): void => {
  if (!ctx.batchCalls || ctx.state.chunks.has(hash) || ctx.uploaded.has(hash)) return;
  if (ctx.ahead.inFlight >= AHEAD_IN_FLIGHT) return;
  if (ctx.uploaded.size >= REMEMBERED) ctx.uploaded.clear();
  ctx.ahead.inFlight++;
  const body = encodeRecords([{ hash, bytes: Buffer.from(bytes) }]);
  const sent = ctx
    .chunkSlot(async () => {
      if ((await ctx.api.missingChunks([hash])).includes(hash)) await ctx.api.putChunks(body);
    })
    .then(
      () => true,
      (e: unknown) => {
        if (isMissingRoute(e)) withoutBatchCalls(ctx);
        if (ctx.uploaded.get(hash) === sent) ctx.uploaded.delete(hash);
        return false;
      },
    )
    .finally(() => void ctx.ahead.inFlight--);
  ctx.uploaded.set(hash, sent);
};

/**
 * Whether the workspace holds every one of these chunks: in a synced file here, or sent ahead. The
 * chunks still being sent ahead are waited for first, so that what the server is then asked to
 * list as missing never includes a chunk already on its way (it would be sent twice).
 */
export const heldByServer = async (ctx: SyncContext, chunks: readonly { readonly hash: string }[]): Promise<boolean> => {
  const sent = await Promise.all(chunks.map((c) => (ctx.state.chunks.has(c.hash) ? true : (ctx.uploaded.get(c.hash) ?? false))));
  return sent.every((held) => held);
};
