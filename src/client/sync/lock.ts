import fs from 'node:fs/promises';
import { isErrno } from '../state/files.js';
import { FolderProblem, type Layout } from '../state/layout.js';

const alive = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
};

/**
 * One sync process per folder: .strata/sync.lock holds its pid. A lock left by a process that is
 * gone (kill -9, a crash) is taken over. Answers how to release it.
 */
export const acquireSyncLock = async (layout: Layout): Promise<() => Promise<void>> => {
  for (let tries = 0; tries < 5; tries++) {
    try {
      const handle = await fs.open(layout.syncLock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        const owner = await fs.readFile(layout.syncLock, 'utf8').catch(() => '');
        if (owner === String(process.pid)) await fs.rm(layout.syncLock, { force: true });
      };
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      const owner = Number(await fs.readFile(layout.syncLock, 'utf8').catch(() => ''));
      if (alive(owner) && owner !== process.pid) throw new FolderProblem(`${layout.root} is already being synced by process ${owner}.`);
      await fs.rm(layout.syncLock, { force: true });
    }
  }
  throw new FolderProblem(`could not take ${layout.syncLock}`);
};
