import fs from 'node:fs/promises';
import path from 'node:path';
import { conflictedCopyName, freeName, nameCollisionName } from '../local/names.js';
import { isErrno } from '../state/files.js';
import type { Report } from '../state/model.js';
import { absPath, type SyncContext } from './context.js';

/**
 * Renames what is at rel to a free sibling name and reports it: never overwrite, never delete.
 * Call inside ctx.renameSlot. Answers the new relative path, or null when nothing was there.
 */
export const moveAsideUnlocked = async (ctx: SyncContext, rel: string, kind: Report['kind'], why: string): Promise<string | null> => {
  const file = absPath(ctx, rel);
  const dir = path.dirname(file);
  const name = path.basename(file);
  const at = new Date();
  const aside = await freeName(dir, (n) => (kind === 'name_collision' ? nameCollisionName(name, ctx.config.deviceName, n) : conflictedCopyName(name, ctx.config.deviceName, at, n)));
  try {
    await fs.rename(file, path.join(dir, aside));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  const newRel = rel.slice(0, rel.length - name.length) + aside;
  const message = `${rel}: ${why}; this device's copy is kept as ${aside}`;
  ctx.state.report({ kind, path: newRel, message });
  ctx.reporter.warn(message);
  return newRel;
};

export const moveAside = (ctx: SyncContext, rel: string, kind: Report['kind'], why: string): Promise<string | null> =>
  ctx.renameSlot(() => moveAsideUnlocked(ctx, rel, kind, why));
