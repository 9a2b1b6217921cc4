import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ServerRefusal } from '../api/errors.js';
import { contentHash } from '../chunking/hashChunks.js';
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

/**
 * Which local bytes may be replaced: those of the synced entry, unchanged since (same stat, or same
 * content hash as the synced version). Answers 'same' when the local file already is the version.
 */
const assessLocal = async (ctx: SyncContext, item: Download): Promise<{ kind: 'same'; stat: LocalStat; chunks: Awaited<ReturnType<typeof describeLocalFile>>['chunks'] } | { kind: 'replaceable' | 'keep'; expected: LocalStat | null }> => {
  const file = absPath(ctx, item.path);
  const synced = ctx.state.synced.get(item.path);
  const ours = synced?.kind === 'file' && synced.nodeId === item.nodeId ? synced : null;
  const there = await fs.lstat(file).catch((e: unknown) => (isErrno(e, 'ENOENT', 'ENOTDIR') ? null : Promise.reject(e)));
  if (there === null) return { kind: 'replaceable', expected: null };
  if (!there.isFile()) return { kind: 'keep', expected: null };
  const stat = statOf(there);
  if (ours !== null && sameStat(stat, ours.stat)) return { kind: 'replaceable', expected: stat };
  const described = await describeLocalFile(file, stat.size);
  const after = await statFile(file);
  if (after === null || !sameStat(after, stat)) return { kind: 'keep', expected: null };
  const hash = contentHash(described.chunks);
  if (hash === item.version.contentHash) return { kind: 'same', stat, chunks: described.chunks };
  if (ours !== null && hash === ours.contentHash) return { kind: 'replaceable', expected: stat };
  return { kind: 'keep', expected: null };
};

/**
 * Puts the remote version at its path: built in .strata/tmp (local chunks copied, others fetched,
 * all verified), fsynced, renamed into place. Local bytes changed since the last sync are never
 * overwritten: they move aside as a conflicted copy first (and are uploaded as a new file).
 */
export const materialize = async (ctx: SyncContext, item: Download, progress: TransferProgress): Promise<Outcome> => {
  const file = absPath(ctx, item.path);
  const assessed = await assessLocal(ctx, item);
  if (assessed.kind === 'same') {
    ctx.state.setSynced(item.path, {
      kind: 'file',
      nodeId: item.nodeId,
      versionId: item.version.versionId,
      contentHash: item.version.contentHash,
      chunks: assessed.chunks,
      stat: assessed.stat,
    });
    progress.advance(item.version.size, 1);
    return 'adopted';
  }
  const temp = path.join(ctx.layout.tmp, `${crypto.randomUUID()}.part`);
  try {
    let chunks;
    try {
      chunks = await buildVersion(ctx, item.nodeId, item.version, temp, progress);
    } catch (e) {
      // Superseded or purged since it was pulled: the next pull says what is there now.
      if (e instanceof ServerRefusal && (e.code === 'not_found' || e.code === 'gone')) return 'skipped';
      if (e instanceof CorruptChunk) {
        ctx.reporter.warn(`${item.path}: ${e.message}; will retry`);
        return 'skipped';
      }
      throw e;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    let conflict = false;
    await ctx.renameSlot(async () => {
      const now = await fs.lstat(file).catch((e: unknown) => (isErrno(e, 'ENOENT', 'ENOTDIR') ? null : Promise.reject(e)));
      const replaceable = now === null || (now.isFile() && assessed.kind === 'replaceable' && assessed.expected !== null && sameStat(statOf(now), assessed.expected));
      if (!replaceable) {
        conflict = (await moveAsideUnlocked(ctx, item.path, 'conflict', 'changed here and on another device')) !== null;
      }
      await fs.rename(temp, file);
    });
    // The rename is made durable with the others of this batch, before the journal records it.
    ctx.dirtyDirs.add(path.dirname(file));
    const stat = await statFile(file);
    if (stat === null) return 'skipped';
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
  } finally {
    await fs.rm(temp, { force: true });
  }
};
