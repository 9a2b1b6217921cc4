import fsSync, { type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { nameProblem } from '../../domain/names.js';
import { isErrno } from '../state/files.js';
import type { LocalStat } from '../state/model.js';
import type { IgnoreRules } from './ignore.js';
import { joinRel } from './names.js';

export type ScannedEntry = { readonly kind: 'file'; readonly stat: LocalStat } | { readonly kind: 'folder'; readonly ino: number };

/** What one walk of the folder found: every synced path (relative, '/'-separated), and what it skipped. */
export interface Scan {
  readonly entries: Map<string, ScannedEntry>;
  /** Paths the server could not hold (a name with control characters, ...) or that are not files (sockets, symlinks). */
  readonly unsyncable: { path: string; reason: string }[];
  /** Paths left out by the ignore rules (files and folders). */
  readonly ignored: Set<string>;
}

export const statOf = (s: { size: number; mtimeMs: number; ino: number }): LocalStat => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });

export const sameStat = (a: LocalStat, b: LocalStat): boolean => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/** lstat of a file as a LocalStat, or null when it is gone or not a regular file. */
export const statFile = async (file: string): Promise<LocalStat | null> => {
  try {
    const s = await fs.lstat(file);
    return s.isFile() ? statOf(s) : null;
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return null;
    throw e;
  }
};

/** lstatSync as a LocalStat, or null when it is gone or not a regular file. */
export const statFileNow = (file: string): LocalStat | null => {
  try {
    const s = fsSync.lstatSync(file);
    return s.isFile() ? statOf(s) : null;
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return null;
    throw e;
  }
};

export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Walks root: folders and regular files that the rules keep, with the stat a change is detected by.
 * Synchronous calls, one folder at a time with the event loop served in between: an lstat is a few
 * microseconds, a promise round trip through the thread pool ten times that, and a scan of a large
 * tree runs on every round. onFile hears each file as it is found.
 */
export const scanFolder = async (root: string, rules: IgnoreRules, onFile?: (rel: string, stat: LocalStat) => void): Promise<Scan> => {
  const entries = new Map<string, ScannedEntry>();
  const unsyncable: Scan['unsyncable'] = [];
  const ignored = new Set<string>();
  const queue: string[] = [''];
  for (let dir = queue.pop(); dir !== undefined; dir = queue.pop()) {
    await yieldToEventLoop();
    let listing: Dirent[];
    try {
      listing = fsSync.readdirSync(path.join(root, dir), { withFileTypes: true });
    } catch (e) {
      // A folder removed or replaced while we walk: the next scan sees it as it is then.
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) continue;
      throw e;
    }
    const files: string[] = [];
    for (const d of listing) {
      const rel = joinRel(dir, d.name);
      const isDir = d.isDirectory();
      if (rules.ignores(rel, isDir)) {
        ignored.add(rel);
        continue;
      }
      const problem = nameProblem(d.name);
      if (problem !== null) {
        unsyncable.push({ path: rel, reason: `the name cannot be synced (${problem.replace(/_/g, ' ')})` });
        continue;
      }
      if (isDir) queue.push(rel);
      else if (d.isFile()) files.push(rel);
      else unsyncable.push({ path: rel, reason: d.isSymbolicLink() ? 'symbolic links are not synced' : 'not a regular file' });
    }
    if (dir !== '') {
      const s = fsSync.lstatSync(path.join(root, dir), { throwIfNoEntry: false });
      if (s?.isDirectory() === true) entries.set(dir, { kind: 'folder', ino: s.ino });
    }
    for (const rel of files) {
      const stat = statFileNow(path.join(root, rel));
      if (stat === null) continue;
      entries.set(rel, { kind: 'file', stat });
      onFile?.(rel, stat);
    }
  }
  return { entries, unsyncable, ignored };
};
