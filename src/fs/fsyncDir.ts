import fs from 'node:fs/promises';

/** fsyncs a directory: a rename, link or new name in it is durable only once its directory is. */
export const fsyncDir = async (dir: string): Promise<void> => {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};
