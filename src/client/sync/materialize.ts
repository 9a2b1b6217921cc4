import crypto from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ServerRefusal } from '../api/errors.js';
import { contentHash, type FileChunk } from '../chunking/hashChunks.js';
import { describeLocalFile } from '../local/describe.js';
import { sameStat, statFile, statOf } from '../local/scan.js';
import { isErrno } from '../state/files.js';
import type { LocalStat, RemoteVersion } from '../state/model.js';
import { buildVersion, CorruptChunk } from '../transfer/download.js';
import { moveAsideUnlocked } from './aside.js';
import { absPath, type SyncContext, type TransferProgress } from './context.js';

export interface Download {
  readonly nodeId: string;
  readonly path: string;
  readonly version: RemoteVersion;
}

export type Outcome = 'placed' | 'adopted' | 'conflict' | 'skipped';

/** What is at a download's path: the version already, bytes that may be replaced (with their stat), or bytes to keep. */
export type Assessed =
  | { readonly kind: 'same'; readonly stat: LocalStat; readonly chunks: readonly FileChunk[] }
  | { readonly kind: 'replaceable' | 'keep'; readonly expected: LocalStat | null };

/**
 * lstat without the thread pool (where it would wait behind other downloads' fsyncs); null when
 * nothing is there. Nothing is what a download usually finds (a new file), and asked this way it
 * costs no error object: the stack trace of a thrown ENOENT took longer than the lstat itself,
 * twice per file downloaded.
 */
const lstatNow = (file: string): fsSync.Stats | null => {
  try {
    return fsSync.lstatSync(file, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return null;
    throw e;
  }
};

/**
 * Which local bytes may be replaced: those of the synced entry, unchanged since (same stat, or same
 * content hash as the synced version). Answers 'same' when the local file already is the version.
 */
export const assessLocal = async (ctx: SyncContext, item: Download): Promise<Assessed> => {
  const file = absPath(ctx, item.path);
  const synced = ctx.state.synced.get(item.path);
  const ours = synced?.kind === 'file' && synced.nodeId === item.nodeId ? synced : null;
  const there = lstatNow(file);
  if (there === null) return { kind: 'replaceable', expected: null };
  if (!there.isFile()) return { kind: 'keep', expected: null };
  const stat = statOf(there);
  if (ours !== null && sameStat(stat, ours.stat)) return { kind: 'replaceable', expected: stat };
  const described = await describeLocalFile(file, stat.size, ours?.localCuts === true ? ours.chunks : undefined);
  const after = await statFile(file);
  if (after === null || !sameStat(after, stat)) return { kind: 'keep', expected: null };
  const hash = contentHash(described.chunks);
  if (hash === item.version.contentHash) return { kind: 'same', stat, chunks: described.chunks };
  if (ours !== null && hash === ours.contentHash) return { kind: 'replaceable', expected: stat };
  return { kind: 'keep', expected: null };
};

/** The local file already is the version: recorded as synced, nothing written. */
export const adopt = (ctx: SyncContext, item: Download, assessed: Extract<Assessed, { kind: 'same' }>, progress: TransferProgress): 'adopted' => {
  ctx.state.setSynced(item.path, {
    kind: 'file',
    nodeId: item.nodeId,
    versionId: item.version.versionId,
    contentHash: item.version.contentHash,
    chunks: assessed.chunks,
    stat: assessed.stat,
    localCuts: true,
  });
  progress.advance(item.version.size, 1);
  return 'adopted';
};

// A replaced file at least this large is held open across the rename (see placeBuilt), at most
// this many at once until the next checkpoint; past that, let go of at once, in the background.
const HOLD_REPLACED_BYTES = 16 * 1024 * 1024;
const HOLD_REPLACED_FILES = 32;

/** A read-only descriptor of file, or null when it cannot be opened. */
const openNow = (file: string): number | null => {
  try {
    return fsSync.openSync(file, 'r');
  } catch {
    return null;
  }
};

/**
 * Renames a built version (temp, complete and fsynced, whose stat is `stat`) to the item's path and
 * records it as synced. Local bytes changed since the assessment are never overwritten: they move
 * aside as a conflicted copy first. The check and the rename are synchronous calls inside the
 * rename slot: the slot is one at a time for the whole folder, and an async call there would wait
 * for a thread-pool thread behind other downloads' fsyncs.
 */
export const placeBuilt = async (
  ctx: SyncContext,
  item: Download,
  assessed: Exclude<Assessed, { kind: 'same' }>,
  temp: string,
  chunks: readonly FileChunk[],
  stat: LocalStat,
  progress: TransferProgress,
): Promise<'placed' | 'conflict'> => {
  const file = absPath(ctx, item.path);
  let conflict = false;
  await ctx.renameSlot(async () => {
    const now = lstatNow(file);
    const replaceable = now === null || (now.isFile() && assessed.kind === 'replaceable' && assessed.expected !== null && sameStat(statOf(now), assessed.expected));
    if (!replaceable) conflict = (await moveAsideUnlocked(ctx, item.path, 'conflict', 'changed here and on another device')) !== null;
    // The file replaced is freed when its last name and descriptor go, and freeing a large file's
    // blocks takes the filesystem a while (ext4: 60-90 ms for 100 MiB) in that very call, on the
    // event loop. Held open across the rename, it is freed when the next checkpoint closes it
    // (ctx.replaced), in the thread pool, once the new version is recorded.
    const held = replaceable && now !== null && now.isFile() && now.size >= HOLD_REPLACED_BYTES ? openNow(file) : null;
    fsSync.renameSync(temp, file);
    if (held !== null && ctx.replaced.length < HOLD_REPLACED_FILES) ctx.replaced.push(held);
    else if (held !== null) fsSync.close(held, () => undefined);
  });
  // The rename is made durable with the others of this batch, before the journal records it.
  ctx.dirtyDirs.add(path.dirname(file));
  // The stat of the bytes written, taken before the rename (which keeps size, mtime and inode): an
  // edit made right after the rename is then a change the next scan sees, never taken for synced.
  ctx.state.setSynced(item.path, {
    kind: 'file',
    nodeId: item.nodeId,
    versionId: item.version.versionId,
    contentHash: item.version.contentHash,
    chunks,
    stat,
  });
  progress.advance(0, 1);
  return conflict ? 'conflict' : 'placed';
};

/** A temp file for a version being built, in .strata/tmp (never a partial file in the folder itself). */
export const tempFor = (ctx: SyncContext): string => path.join(ctx.layout.tmp, `${crypto.randomUUID()}.part`);

/**
 * Puts the remote version at its path: built in .strata/tmp (local chunks copied, others fetched,
 * all verified), fsynced, renamed into place. Local bytes changed since the last sync are never
 * overwritten: they move aside as a conflicted copy first (and are uploaded as a new file).
 */
export const materialize = async (ctx: SyncContext, item: Download, progress: TransferProgress): Promise<Outcome> => {
  const assessed = await assessLocal(ctx, item);
  if (assessed.kind === 'same') return adopt(ctx, item, assessed, progress);
  const temp = tempFor(ctx);
  try {
    let built;
    try {
      built = await buildVersion(ctx, item.nodeId, item.version, temp, progress);
    } catch (e) {
      // Superseded or purged since it was pulled: the next pull says what is there now.
      if (e instanceof ServerRefusal && (e.code === 'not_found' || e.code === 'gone')) return 'skipped';
      if (e instanceof CorruptChunk) {
        ctx.reporter.warn(`${item.path}: ${e.message}; will retry`);
        return 'skipped';
      }
      throw e;
    }
    await fs.mkdir(path.dirname(absPath(ctx, item.path)), { recursive: true });
    return await placeBuilt(ctx, item, assessed, temp, built.chunks, built.stat, progress);
  } finally {
    await fs.rm(temp, { force: true });
  }
};
