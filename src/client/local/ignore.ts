import fs from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isErrno } from '../state/files.js';
import { STATE_DIR } from '../state/layout.js';

export const IGNORE_FILE = '.strataignore';

/**
 * Never synced, whatever .strataignore says: Office lock files, temp files, Finder metadata,
 * browsers' and download tools' partial files, and this device's own state.
 */
export const BUILTIN_IGNORES = ['~$*', '*.tmp', '.DS_Store', '*.crdownload', '*.part', '*.partial', '*.download', `${STATE_DIR}/`] as const;

export interface IgnoreRules {
  /** True when the relative path (a folder when isDir) is not synced. */
  ignores(relativePath: string, isDir: boolean): boolean;
}

export const ignoreRules = (strataignore: string): IgnoreRules => {
  const builtin = ignore().add([...BUILTIN_IGNORES]);
  const user: Ignore = ignore().add(strataignore);
  return {
    ignores: (relativePath, isDir) => {
      if (relativePath === STATE_DIR || relativePath.startsWith(`${STATE_DIR}/`)) return true;
      const probe = isDir ? `${relativePath}/` : relativePath;
      return builtin.ignores(probe) || user.ignores(probe);
    },
  };
};

/** The rules of the folder at root: the built-in ones plus its .strataignore (gitignore syntax), if any. */
export const loadIgnoreRules = async (root: string): Promise<IgnoreRules> => {
  let text = '';
  try {
    text = await fs.readFile(path.join(root, IGNORE_FILE), 'utf8');
  } catch (e) {
    if (!isErrno(e, 'ENOENT', 'EISDIR')) throw e;
  }
  return ignoreRules(text);
};
