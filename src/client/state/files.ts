import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../../fs/fsyncDir.js';

export { fsyncDir };

/**
 * Replaces file with data all or nothing: a temp file beside it, written and fsynced, renamed over
 * it, the directory fsynced. A crash leaves the old content or the new one, never a mix.
 */
export const writeFileAtomic = async (file: string, data: string | Uint8Array, mode = 0o644): Promise<void> => {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(file));
};

/** The parsed JSON of file, or null when it does not exist. */
export const readJsonFile = async (file: string): Promise<unknown> => {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
};

export const isErrno = (e: unknown, ...codes: string[]): boolean => codes.includes((e as NodeJS.ErrnoException | null)?.code ?? '');
