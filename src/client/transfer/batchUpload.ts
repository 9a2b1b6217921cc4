import crypto from 'node:crypto';
import type { PendingCommit } from '../state/model.js';
import { absPath, type SyncContext, type TransferProgress } from '../sync/context.js';
import { readRange } from './download.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { encodeRecords, MAX_RECORDS, recordBytes, type ChunkRecord } from './records.js';

// A request of chunk records carries up to this much: large enough that thousands of small chunks
// take a handful of requests, small enough that a few in flight keep memory low and a retry cheap.
const PACK_BYTES = 8 * 1024 * 1024;
const PACKS_IN_FLIGHT = 3;
// Local reads for one pack: enough to keep the thread pool busy while the previous pack is sent.
const READS_IN_FLIGHT = 16;
const MISSING_PER_CALL = 10_000;

/** What sending a file's chunks needs of it: a commit prepared, or a file about to be. */
export type ChunksOfFile = Pick<PendingCommit, 'key' | 'path' | 'chunks'>;

/** One distinct chunk of a batch and the files that hold it (each once, at its first offset). */
interface Wanted {
  readonly hash: string;
  readonly size: number;
  readonly places: { readonly pending: ChunksOfFile; readonly offset: number }[];
}

const wantedOf = (pendings: readonly ChunksOfFile[]): Map<string, Wanted> => {
  const wanted = new Map<string, Wanted>();
  for (const pending of pendings)
    for (const chunk of pending.chunks) {
      let w = wanted.get(chunk.hash);
      if (w === undefined) wanted.set(chunk.hash, (w = { hash: chunk.hash, size: chunk.size, places: [] }));
      if (!w.places.some((p) => p.pending === pending)) w.places.push({ pending, offset: chunk.offset });
    }
  return wanted;
};

/** The bytes a chunk's files count for in the progress (each file counts its own copy). */
const progressBytes = (w: Wanted): number => w.size * w.places.length;

/**
 * The chunk's bytes read from the first of its files that still holds them, checked against its
 * SHA-256. A file that no longer does is added to changed. null when none does.
 */
const readVerified = async (ctx: SyncContext, w: Wanted, changed: Set<string>): Promise<Buffer | null> => {
  for (const { pending, offset } of w.places) {
    if (changed.has(pending.key)) continue;
    const bytes = await readRange(absPath(ctx, pending.path), offset, w.size);
    if (bytes !== null && crypto.createHash('sha256').update(bytes).digest('hex') === w.hash) return bytes;
    changed.add(pending.key);
  }
  return null;
};

/** Groups the chunks to send into requests of at most PACK_BYTES and MAX_RECORDS. */
const packsOf = (chunks: readonly Wanted[]): Wanted[][] => {
  const packs: Wanted[][] = [];
  let pack: Wanted[] = [];
  let bytes = 0;
  for (const w of chunks) {
    if (pack.length > 0 && (pack.length >= MAX_RECORDS || bytes + recordBytes(w.size) > PACK_BYTES)) {
      packs.push(pack);
      pack = [];
      bytes = 0;
    }
    pack.push(w);
    bytes += recordBytes(w.size);
  }
  if (pack.length > 0) packs.push(pack);
  return packs;
};

/**
 * Uploads the chunks of these prepared commits that the workspace lacks: one chunks/missing call,
 * then the missing chunks packed many to a request, a few requests in flight. Every chunk is read
 * from its file and checked against its hash first. Answers the keys of the commits whose files no
 * longer hold the bytes described: they must not be committed.
 */
export const sendMissingChunks = async (ctx: SyncContext, pendings: readonly ChunksOfFile[], progress: TransferProgress): Promise<Set<string>> => {
  const wanted = wantedOf(pendings);
  const hashes = [...wanted.keys()];
  const missing = new Set<string>();
  for (let i = 0; i < hashes.length; i += MISSING_PER_CALL) for (const h of await ctx.api.missingChunks(hashes.slice(i, i + MISSING_PER_CALL))) missing.add(h);
  const toSend: Wanted[] = [];
  for (const w of wanted.values()) {
    if (missing.has(w.hash)) toSend.push(w);
    else progress.advance(progressBytes(w));
  }
  const changed = new Set<string>();
  await forEachLimit(packsOf(toSend), PACKS_IN_FLIGHT, async (pack) => {
    const records: ChunkRecord[] = [];
    let bytes = 0;
    await forEachLimit(pack, READS_IN_FLIGHT, async (w) => {
      const read = await readVerified(ctx, w, changed);
      if (read === null) return;
      records.push({ hash: w.hash, bytes: read });
      bytes += progressBytes(w);
    });
    if (records.length === 0) return;
    await ctx.chunkSlot(() => ctx.api.putChunks(encodeRecords(records)));
    progress.advance(bytes);
  });
  return changed;
};
