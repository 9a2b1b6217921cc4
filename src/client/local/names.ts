import fs from 'node:fs/promises';
import path from 'node:path';
import { nameKey, nameProblem } from '../../domain/names.js';
import { isErrno } from '../state/files.js';

export { nameKey };

/** "report.final" + ".pdf"; a leading dot is part of the stem (".bashrc" has no extension). */
export const splitExtension = (name: string): [stem: string, ext: string] => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
};

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** YYYY-MM-DD HHMMSS in local time, as people read their clock. */
export const stamp = (at: Date): string =>
  `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;

// eslint-disable-next-line no-control-regex
const safeDevice = (device: string): string => device.replace(/[/\\\u0000-\u001f\u007f]/g, '-');

/** stem + suffix + ext, the stem shortened (whole characters) until the name fits 255 bytes. */
const fitted = (stem: string, suffix: string, ext: string): string => {
  const chars = Array.from(stem);
  while (chars.length > 1 && nameProblem(chars.join('') + suffix + ext) === 'too_long') chars.pop();
  return chars.join('') + suffix + ext;
};

/** "NAME (conflicted copy from DEVICE YYYY-MM-DD HHMMSS).EXT", " 2", " 3", ... inside the brackets when taken. */
export const conflictedCopyName = (name: string, device: string, at: Date, n = 1): string => {
  const [stem, ext] = splitExtension(name);
  return fitted(stem, ` (conflicted copy from ${safeDevice(device)} ${stamp(at)}${n > 1 ? ` ${n}` : ''})`, ext);
};

/** "NAME (name conflict from DEVICE).EXT": a name this folder already has under NFC and case folding. */
export const nameCollisionName = (name: string, device: string, n = 1): string => {
  const [stem, ext] = splitExtension(name);
  return fitted(stem, ` (name conflict from ${safeDevice(device)}${n > 1 ? ` ${n}` : ''})`, ext);
};

export const exists = async (file: string): Promise<boolean> => {
  try {
    await fs.lstat(file);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return false;
    throw e;
  }
};

/** The first of makeName(1), makeName(2), ... that is free in dir (also free under nameKey among its entries). */
export const freeName = async (dir: string, makeName: (n: number) => string): Promise<string> => {
  const taken = new Set((await fs.readdir(dir).catch(() => [] as string[])).map(nameKey));
  for (let n = 1; ; n++) {
    const candidate = makeName(n);
    if (!taken.has(nameKey(candidate)) && !(await exists(path.join(dir, candidate)))) return candidate;
  }
};

/** Joins relative '/'-paths ('' is the root). */
export const joinRel = (parent: string, name: string): string => (parent === '' ? name : `${parent}/${name}`);
export const parentOf = (rel: string): string => {
  const slash = rel.lastIndexOf('/');
  return slash === -1 ? '' : rel.slice(0, slash);
};
export const baseOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);
export const depthOf = (rel: string): number => (rel === '' ? 0 : rel.split('/').length);
