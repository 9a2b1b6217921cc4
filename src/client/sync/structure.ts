import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { baseOf, depthOf, joinRel, parentOf } from '../local/names.js';
import { statFile, sameStat } from '../local/scan.js';
import { isErrno } from '../state/files.js';
import type { SyncedEntry } from '../state/model.js';
import { remotePath } from '../remote/tree.js';
import { moveAsideUnlocked } from './aside.js';
import { absPath, type SyncContext } from './context.js';

const lstatOrNull = (file: string) => fs.lstat(file).catch((e: unknown) => (isErrno(e, 'ENOENT', 'ENOTDIR') ? null : Promise.reject(e)));

const inoOf = (entry: SyncedEntry): number => (entry.kind === 'file' ? entry.stat.ino : entry.ino);

/** The synced entries whose node the server deleted, and the live nodes whose path moved, against the pulled tree. */
export const diffSynced = (ctx: SyncContext) => {
  const { state, config } = ctx;
  const dead: [string, SyncedEntry][] = [];
  const moved: string[] = [];
  for (const [p, entry] of state.synced) {
    // Known only from a push whose event is not pulled yet: nothing to compare with.
    if (!state.remote.has(entry.nodeId)) continue;
    const target = remotePath(state, config.rootId, entry.nodeId);
    if (target === null) dead.push([p, entry]);
    else if (target !== p) moved.push(entry.nodeId);
  }
  return { dead, moved };
};

/**
 * Deleted on the server: a synced file unchanged here goes; one edited here stays (the edit
 * survives, and is uploaded again as a new file).
 */
export const removeDeadFiles = async (ctx: SyncContext, dead: readonly [string, SyncedEntry][]): Promise<number> => {
  let changed = 0;
  for (const [p, entry] of dead) {
    if (entry.kind !== 'file') continue;
    const local = await statFile(absPath(ctx, p));
    if (local !== null && sameStat(local, entry.stat)) {
      await fs.rm(absPath(ctx, p), { force: true });
      changed++;
    } else if (local !== null) {
      const message = `${p} was deleted on another device but changed here: this device's version is kept and uploaded again`;
      ctx.state.report({ kind: 'edit_kept', path: p, message });
      ctx.reporter.warn(message);
    }
    ctx.state.setSynced(p, null);
  }
  return changed;
};

/** Folders deleted on the server, deepest first: removed when empty, kept (and reported) when they hold anything. */
export const removeDeadFolders = async (ctx: SyncContext, dead: readonly [string, SyncedEntry][]): Promise<number> => {
  let changed = 0;
  const folders = dead.filter(([, e]) => e.kind === 'folder').sort((a, b) => depthOf(b[0]) - depthOf(a[0]));
  for (const [p] of folders) {
    try {
      await fs.rmdir(absPath(ctx, p));
      changed++;
    } catch (e) {
      if (isErrno(e, 'ENOTEMPTY', 'EEXIST')) {
        ctx.state.setKept(p, true);
        ctx.reporter.warn(`${p} was deleted on another device but holds files not synced from here: it is kept`);
      } else if (!isErrno(e, 'ENOENT', 'ENOTDIR')) throw e;
    }
    ctx.state.setSynced(p, null);
  }
  return changed;
};

/** Removes dir if it holds nothing but (recursively) empty folders; answers whether it is gone. */
const pruneEmptyFolders = async (dir: string): Promise<boolean> => {
  let listing;
  try {
    listing = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return true;
    if (isErrno(e, 'ENOTDIR')) return false;
    throw e;
  }
  let empty = true;
  for (const d of listing) if (!d.isDirectory() || !(await pruneEmptyFolders(path.join(dir, d.name)))) empty = false;
  if (!empty) return false;
  await fs.rmdir(dir).catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)));
  return true;
};

interface Placement {
  readonly kind: 'move' | 'folder';
  readonly nodeId: string;
}

/** Moves the synced node's local file or folder to where the server has it now. */
const placeMove = async (ctx: SyncContext, from: string, to: string): Promise<void> => {
  const entry = ctx.state.synced.get(from);
  if (entry === undefined) return;
  const source = await lstatOrNull(absPath(ctx, from));
  // What is at the synced path goes along, edited or not (an editor's save-by-rename gives the file
  // a new inode: it is still this node's file).
  const isSame = source !== null && (entry.kind === 'folder' ? source.isDirectory() : source.isFile());
  await fs.mkdir(path.dirname(absPath(ctx, to)), { recursive: true });
  await ctx.renameSlot(async () => {
    const target = await lstatOrNull(absPath(ctx, to));
    // Already there (a move redone after a crash), unless only the case of the name differs.
    if (target !== null && target.ino === inoOf(entry) && !(isSame && from.toLowerCase() === to.toLowerCase())) return;
    if (target !== null && !(isSame && target.ino === source?.ino)) await moveAsideUnlocked(ctx, to, 'conflict', 'something else was in the way of a file moved on another device');
    // Moved or deleted here too (not pushed yet): the scan takes it from where it is now.
    if (isSame) await fs.rename(absPath(ctx, from), absPath(ctx, to));
  });
  ctx.state.moveSynced(from, to);
};

/** Creates the folder the server has at to (or adopts a folder already there). */
const placeFolder = async (ctx: SyncContext, nodeId: string, to: string): Promise<void> => {
  const file = absPath(ctx, to);
  await ctx.renameSlot(async () => {
    const there = await lstatOrNull(file);
    if (there !== null && !there.isDirectory()) await moveAsideUnlocked(ctx, to, 'conflict', 'a folder created on another device has this name');
    await fs.mkdir(file, { recursive: true });
  });
  const made = await fs.lstat(file);
  ctx.state.setSynced(to, { kind: 'folder', nodeId, ino: made.ino });
  ctx.state.setKept(to, false);
};

/**
 * Brings local folders and the places of synced files in line with the pulled tree: new folders
 * created, moves and renames done as local renames (no byte downloaded). Each step waits until its
 * parent folder is in place and its target is free; a cycle (a and b swapping names) is broken by
 * parking one of them under a temporary name first.
 */
export const placeNodes = async (ctx: SyncContext, moved: readonly string[], isIgnored: (rel: string, isDir: boolean) => boolean): Promise<number> => {
  const { state, config } = ctx;
  const items: Placement[] = moved.map((nodeId) => ({ kind: 'move', nodeId }));
  for (const node of state.remote.values())
    if (node.kind === 'folder' && node.trashedBy === null && node.nodeId !== config.rootId && !state.pathOfNode.has(node.nodeId)) {
      const target = remotePath(state, config.rootId, node.nodeId);
      if (target !== null && !isIgnored(target, true)) items.push({ kind: 'folder', nodeId: node.nodeId });
    }
  const placed = (rel: string): boolean => {
    if (rel === '') return true;
    const entry = state.synced.get(rel);
    return entry?.kind === 'folder' && remotePath(state, config.rootId, entry.nodeId) === rel;
  };
  let changed = 0;
  let todo = items;
  while (todo.length > 0) {
    const blocked: Placement[] = [];
    let progressed = false;
    for (const item of todo) {
      const to = remotePath(state, config.rootId, item.nodeId);
      const from = state.pathOfNode.get(item.nodeId);
      if (to === null || (item.kind === 'move' && (from === undefined || from === to)) || (item.kind === 'folder' && from !== undefined)) {
        progressed = true;
        continue;
      }
      const occupant = state.synced.get(to);
      if (!placed(parentOf(to)) || (occupant !== undefined && occupant.nodeId !== item.nodeId)) {
        blocked.push(item);
        continue;
      }
      if (item.kind === 'move' && from !== undefined) await placeMove(ctx, from, to);
      else await placeFolder(ctx, item.nodeId, to);
      changed++;
      progressed = true;
    }
    if (!progressed) {
      // Every step waits on another: park the synced entry in the way of the first one.
      const first = blocked[0] as Placement;
      const to = remotePath(state, config.rootId, first.nodeId) as string;
      const occupant = state.synced.get(to);
      if (occupant === undefined) {
        ctx.reporter.warn(`could not place ${blocked.length} item(s) from the server (their folder is missing here); will retry`);
        break;
      }
      const inTheWay = to;
      if (remotePath(state, config.rootId, occupant.nodeId) === null) {
        // A folder deleted on the server, still here because it holds unsynced files: it steps aside.
        await ctx.renameSlot(async () => {
          if (!(await pruneEmptyFolders(absPath(ctx, inTheWay)))) {
            const aside = await moveAsideUnlocked(ctx, inTheWay, 'conflict', 'a folder deleted on another device still holds files not synced from here');
            if (aside !== null) state.setKept(aside, true);
          }
        });
        state.dropSyncedWithin(inTheWay);
        todo = blocked;
        continue;
      }
      const parked = joinRel(parentOf(inTheWay), `${baseOf(inTheWay)} (moving ${crypto.randomBytes(3).toString('hex')})`);
      await ctx.renameSlot(async () => {
        await fs.rename(absPath(ctx, inTheWay), absPath(ctx, parked)).catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)));
      });
      state.moveSynced(inTheWay, parked);
      await state.flush();
    }
    todo = blocked;
  }
  return changed;
};
