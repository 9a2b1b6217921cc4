import { contentHash, type FileChunk } from '../chunking/hashChunks.js';
import { describeLocalFile, describeSmallFile, IN_MEMORY_BYTES, ONE_CHUNK_BYTES } from '../local/describe.js';
import { depthOf, parentOf } from '../local/names.js';
import { sameStat, statFile, statFileNow, yieldToEventLoop, type Scan } from '../local/scan.js';
import { FolderProblem } from '../state/layout.js';
import type { LocalStat, SyncedEntry } from '../state/model.js';
import { isWithin } from '../state/store.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { uploadAhead } from '../transfer/uploadAhead.js';
import { batchable } from './batching.js';
import { absPath, type SyncContext } from './context.js';

export type FolderOp = { readonly kind: 'mkdir'; readonly path: string; readonly ino: number } | MoveOp;
export interface MoveOp {
  readonly kind: 'move';
  readonly nodeId: string;
  readonly from: string;
  readonly to: string;
}
export interface UploadOp {
  readonly path: string;
  /** null: a new file. */
  readonly nodeId: string | null;
  readonly baseVersionId: string | null;
  readonly stat: LocalStat;
  readonly chunks: readonly FileChunk[];
  readonly contentHash: string;
}
export interface DeleteOp {
  readonly nodeId: string;
  readonly path: string;
  /** Synced files at or under path. */
  readonly files: number;
}

/** What this device changed since the last sync, as the calls that tell the server. */
export interface PushPlan {
  /** Folder creations and folder moves, parents first: run in order. */
  readonly folderOps: FolderOp[];
  readonly fileMoves: MoveOp[];
  readonly uploads: UploadOp[];
  /** Same content as synced, only the stat changed (touched, copied over itself): nothing to send. */
  readonly touches: { readonly path: string; readonly stat: LocalStat; readonly chunks: readonly FileChunk[] }[];
  readonly deletes: DeleteOp[];
  /** Files still being written: left for a later round. */
  readonly unstable: string[];
  /** Deletes held back for --confirm-deletes. */
  readonly held: { readonly folder: string; readonly files: number; readonly of: number } | null;
}

// "More than half of a folder's files, and over 100": what one scan may delete unconfirmed.
const MASS_DELETE_FILES = 100;

const NEW = 'new:';
// Large files are read and hashed this many at a time (reads overlap hashing).
const DESCRIBES_IN_FLIGHT = 4;
const YIELD_EVERY = 64;

/**
 * Chunks and hashes a file, or answers null when it changed while being read (not stable yet).
 * Chunks this device cut for the file before (described lately, or committed from here) let the
 * describe skip most of the scanning for cut points: the boundaries come out the same. A large file
 * with such chunks is described in the describer's thread. One describe per file and stat at a
 * time: a second call (the plan, after the scan started it) waits for the first.
 */
const describeStable = (ctx: SyncContext, rel: string, stat: LocalStat): Promise<readonly FileChunk[] | null> => {
  const cached = ctx.described.get(rel);
  if (cached !== undefined && sameStat(cached.stat, stat)) return Promise.resolve(cached.chunks);
  const running = ctx.describing.get(rel);
  if (running !== undefined && sameStat(running.stat, stat)) return running.done;
  const done = describeNow(ctx, rel, stat);
  ctx.describing.set(rel, { stat, done });
  const forget = () => {
    if (ctx.describing.get(rel)?.done === done) ctx.describing.delete(rel);
  };
  done.then(forget, forget);
  return done;
};

/** The chunks this device last cut for the file (described lately, else committed from here), if any. */
const previousCuts = (ctx: SyncContext, rel: string): readonly FileChunk[] | undefined => {
  const synced = ctx.state.synced.get(rel);
  return ctx.described.get(rel)?.chunks ?? (synced?.kind === 'file' && synced.localCuts === true ? synced.chunks : undefined);
};

const describeNow = async (ctx: SyncContext, rel: string, stat: LocalStat): Promise<readonly FileChunk[] | null> => {
  const previous = previousCuts(ctx, rel);
  const file = absPath(ctx, rel);
  // A large file's new chunks go to the server while the rest is read (small files go in batches).
  const ahead = batchable(ctx, stat.size) ? undefined : (chunk: FileChunk, bytes: Uint8Array) => uploadAhead(ctx, chunk.hash, bytes);
  const small = stat.size < ONE_CHUNK_BYTES;
  const threaded = stat.size > IN_MEMORY_BYTES && previous !== undefined && previous.length > 0;
  const described = await (small
    ? describeSmallFile(file)
    : threaded
      ? ctx.describer.describe(file, stat.size, previous, ahead)
      : describeLocalFile(file, stat.size, previous, ahead)
  ).catch(() => null);
  const after = small ? statFileNow(file) : await statFile(file);
  if (described === null || after === null || !sameStat(after, stat)) return null;
  ctx.described.set(rel, { stat, chunks: described.chunks });
  return described.chunks;
};

/** Not changed for stableMs (a file whose mtime lies in the future counts as settled): nobody is writing it. */
const settled = (ctx: SyncContext, stat: LocalStat, now: number): boolean => {
  const age = now - stat.mtimeMs;
  return age < 0 || age >= ctx.options.stableMs;
};

/**
 * Told of each file as the scan finds it: a large file changed since it was synced from here, and
 * not being written any more, starts being described now (in the describer's thread), while the
 * scan goes on; the plan then finds it described, or waits for it.
 */
export const describeEarly = (ctx: SyncContext, rel: string, stat: LocalStat, now = Date.now()): void => {
  if (stat.size <= IN_MEMORY_BYTES) return;
  const synced = ctx.state.synced.get(rel);
  if (synced?.kind !== 'file' || synced.localCuts !== true || synced.chunks.length === 0 || sameStat(synced.stat, stat)) return;
  if (!settled(ctx, stat, now)) return;
  // Its failure is the plan's to meet (it asks again).
  describeStable(ctx, rel, stat).catch(() => undefined);
};

/** The files and folders of a synced tree, counted per folder (each file counts for every folder above it). */
const filesPerFolder = (paths: Iterable<string>): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const p of paths)
    for (let dir = parentOf(p); ; dir = parentOf(dir)) {
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
      if (dir === '') break;
    }
  return counts;
};

export const planPush = async (ctx: SyncContext, scan: Scan, now = Date.now()): Promise<PushPlan> => {
  const local = scan.entries;
  const skipped = new Set<string>([...scan.ignored, ...scan.unsyncable.map((u) => u.path)]);
  const isSkipped = (p: string): boolean => {
    for (let at = p; at !== ''; at = parentOf(at)) if (skipped.has(at)) return true;
    return false;
  };
  const present = (p: string, kind: SyncedEntry['kind']): boolean => local.get(p)?.kind === kind || isSkipped(p);
  // A commit prepared before a restart already holds the description of its file.
  for (const pending of ctx.state.pending.values()) if (!ctx.described.has(pending.path)) ctx.described.set(pending.path, { stat: pending.stat, chunks: pending.chunks });

  // A working copy of the synced base, moved along as moves are planned.
  const work = new Map(ctx.state.synced);
  const nodePath = new Map(ctx.state.pathOfNode);
  const moveWork = (from: string, to: string) => {
    const moving = [...work].filter(([p]) => isWithin(p, from));
    for (const [p] of moving) work.delete(p);
    for (const [p, e] of moving) {
      work.set(to + p.slice(from.length), e);
      nodePath.set(e.nodeId, to + p.slice(from.length));
    }
  };

  const trackedFiles = [...work].filter(([, e]) => e.kind === 'file').length;
  if (local.size === 0 && trackedFiles > 0 && !ctx.options.confirmDeletes)
    throw new FolderProblem(
      `${ctx.layout.root} is empty, but ${trackedFiles} file(s) were synced here: nothing was deleted on the server. ` +
        'If a disk is not mounted, mount it. If you really deleted everything, run the sync with --confirm-deletes.',
    );

  // Folders, parents first: a new folder with the inode of a vanished one is that folder, moved.
  const folderOps: FolderOp[] = [];
  const vanishedFolderByIno = new Map<number, string>();
  for (const [p, e] of work) if (e.kind === 'folder' && !present(p, 'folder')) vanishedFolderByIno.set(e.ino, e.nodeId);
  const newDirs = [...local].filter(([p, e]) => e.kind === 'folder' && work.get(p)?.kind !== 'folder').map(([p]) => p);
  newDirs.sort((a, b) => depthOf(a) - depthOf(b) || a.localeCompare(b));
  for (const dir of newDirs) {
    const entry = local.get(dir);
    if (entry?.kind !== 'folder' || work.get(dir)?.kind === 'folder') continue;
    const nodeId = vanishedFolderByIno.get(entry.ino);
    const from = nodeId === undefined ? undefined : nodePath.get(nodeId);
    if (nodeId !== undefined && from !== undefined && from !== dir && !present(from, 'folder') && !isWithin(dir, from)) {
      folderOps.push({ kind: 'move', nodeId, from, to: dir });
      moveWork(from, dir);
      vanishedFolderByIno.delete(entry.ino);
      continue;
    }
    // A folder deleted elsewhere and kept here for its unsynced files comes back only with them.
    if (ctx.state.kept.has(dir) && ![...local.keys()].some((p) => p !== dir && isWithin(p, dir))) continue;
    folderOps.push({ kind: 'mkdir', path: dir, ino: entry.ino });
    work.set(dir, { kind: 'folder', nodeId: `${NEW}${dir}`, ino: entry.ino });
  }

  // Files: unchanged, changed, new. A new file with the inode and mtime of a vanished one is that
  // file, moved (the mtime too, because a deleted file's inode is soon given to a new one).
  const unstable: string[] = [];
  const changed: string[] = [];
  const fresh: string[] = [];
  for (const [p, e] of local) {
    if (e.kind !== 'file') continue;
    if (!settled(ctx, e.stat, now)) {
      unstable.push(p);
      continue;
    }
    const synced = work.get(p);
    if (synced?.kind === 'file') {
      if (!sameStat(synced.stat, e.stat)) changed.push(p);
    } else fresh.push(p);
  }
  const vanishedFileByIno = new Map<number, string>();
  for (const [p, e] of work) if (e.kind === 'file' && !present(p, 'file')) vanishedFileByIno.set(e.stat.ino, e.nodeId);
  const fileMoves: MoveOp[] = [];
  const unmatched: string[] = [];
  for (const p of fresh.sort()) {
    const e = local.get(p);
    const nodeId = e?.kind === 'file' ? vanishedFileByIno.get(e.stat.ino) : undefined;
    const from = nodeId === undefined ? undefined : nodePath.get(nodeId);
    const synced = from === undefined ? undefined : work.get(from);
    if (e?.kind !== 'file' || nodeId === undefined || from === undefined || synced?.kind !== 'file' || work.has(p) || synced.stat.mtimeMs !== e.stat.mtimeMs) {
      unmatched.push(p);
      continue;
    }
    fileMoves.push({ kind: 'move', nodeId, from, to: p });
    moveWork(from, p);
    vanishedFileByIno.delete(e.stat.ino);
    if (!sameStat(synced.stat, e.stat)) changed.push(p);
  }

  // Describe what is new or changed (chunks and hashes, reused when the stat has not moved). Small
  // files are read synchronously: the event loop is served every few of them.
  const chunksOf = new Map<string, readonly FileChunk[]>();
  let described = 0;
  await forEachLimit([...unmatched, ...changed], DESCRIBES_IN_FLIGHT, async (p) => {
    const e = local.get(p);
    if (e?.kind !== 'file') return;
    if (++described % YIELD_EVERY === 0) await yieldToEventLoop();
    const chunks = await describeStable(ctx, p, e.stat);
    if (chunks === null) unstable.push(p);
    else chunksOf.set(p, chunks);
  });

  // A vanished file whose content appears under a new name (a copy and delete, a move across
  // disks) is moved too, never re-uploaded.
  const vanishedByHash = new Map<string, string[]>();
  for (const [p, e] of work)
    if (e.kind === 'file' && !present(p, 'file') && e.chunks.length > 0 && vanishedFileByIno.has(e.stat.ino))
      vanishedByHash.set(e.contentHash, [...(vanishedByHash.get(e.contentHash) ?? []), e.nodeId]);
  const uploads: UploadOp[] = [];
  const touches: PushPlan['touches'][number][] = [];
  for (const p of unmatched) {
    const chunks = chunksOf.get(p);
    const e = local.get(p);
    if (chunks === undefined || e?.kind !== 'file') continue;
    const hash = contentHash(chunks);
    const nodeId = vanishedByHash.get(hash)?.shift();
    const from = nodeId === undefined ? undefined : nodePath.get(nodeId);
    if (nodeId !== undefined && from !== undefined && !work.has(p)) {
      fileMoves.push({ kind: 'move', nodeId, from, to: p });
      moveWork(from, p);
      touches.push({ path: p, stat: e.stat, chunks });
      continue;
    }
    uploads.push({ path: p, nodeId: null, baseVersionId: null, stat: e.stat, chunks, contentHash: hash });
  }
  for (const p of changed) {
    const chunks = chunksOf.get(p);
    const e = local.get(p);
    const synced = work.get(p);
    if (chunks === undefined || e?.kind !== 'file' || synced?.kind !== 'file') continue;
    const hash = contentHash(chunks);
    if (hash === synced.contentHash) touches.push({ path: p, stat: e.stat, chunks });
    else uploads.push({ path: p, nodeId: synced.nodeId, baseVersionId: synced.versionId, stat: e.stat, chunks, contentHash: hash });
  }

  // Whatever is synced and gone is deleted: a folder as one delete, its contents with it. Not while
  // a file is still being written: it may be one of these, moved.
  const deletes: DeleteOp[] = [];
  if (unstable.length === 0) {
    const vanishedFolders = new Set<string>();
    // Only what is gone, shallowest first (sorting the whole tree by depth each round took a third
    // of a quiet plan's time on a folder of 5,000 files).
    const gone = [...work].filter(([p, e]) => !e.nodeId.startsWith(NEW) && !present(p, e.kind)).sort((a, b) => depthOf(a[0]) - depthOf(b[0]));
    for (const [p, e] of gone) {
      if (e.kind === 'folder') vanishedFolders.add(p);
      let covered = false;
      for (let dir = parentOf(p); dir !== '' && !covered; dir = parentOf(dir)) covered = vanishedFolders.has(dir);
      if (covered) continue;
      const files = e.kind === 'file' ? 1 : [...work].filter(([q, f]) => f.kind === 'file' && isWithin(q, p)).length;
      deletes.push({ nodeId: e.nodeId, path: p, files });
    }
  }

  // Mass deletes wait for --confirm-deletes: a disk half unmounted must not empty the workspace.
  let held: PushPlan['held'] = null;
  const deletedFiles = deletes.reduce((sum, d) => sum + d.files, 0);
  if (deletedFiles > MASS_DELETE_FILES && !ctx.options.confirmDeletes) {
    const synced = [...work].filter(([, e]) => e.kind === 'file' && !e.nodeId.startsWith(NEW)).map(([p]) => p);
    const totals = filesPerFolder(synced);
    const gone = filesPerFolder(synced.filter((p) => deletes.some((d) => isWithin(p, d.path))));
    for (const [folder, files] of gone) {
      const of = totals.get(folder) ?? files;
      if (files > MASS_DELETE_FILES && files * 2 > of && (held === null || files > held.files)) held = { folder, files, of };
    }
  }
  return { folderOps, fileMoves, uploads, touches, deletes: held === null ? deletes : [], unstable, held };
};
