import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../../fs/fsyncDir.js';

export const hasCode = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code;

export const orNullIfMissing = async <T>(work: Promise<T>): Promise<T | null> => {
  try {
    return await work;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return null;
    throw error;
  }
};

/** Shared with the device's state (src/fs/fsyncDir.ts). */
export { fsyncDir };

/** mkdir -p, then fsync the parents of whatever it created so the new directories survive a crash. */
export const ensureDurableDir = async (dir: string): Promise<void> => {
  const firstCreated = await fs.mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let created = dir; ; created = path.dirname(created)) {
    await fsyncDir(path.dirname(created));
    if (created === firstCreated) return;
  }
};

export const writeAll = async (file: fs.FileHandle, piece: Uint8Array): Promise<void> => {
  for (let offset = 0; offset < piece.byteLength; ) offset += (await file.write(piece, offset)).bytesWritten;
};
