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

// The matchers remember every path they answered for (a scan of a large folder asks again each
// round): started afresh after this many answers, so that what they remember stays bounded.
const ANSWERS_REMEMBERED = 500_000;

export const ignoreRules = (strataignore: string): IgnoreRules => {
  let builtin: Ignore;
  let user: Ignore;
  let answers = 0;
  const fresh = () => {
    builtin = ignore().add([...BUILTIN_IGNORES]);
    user = ignore().add(strataignore);
    answers = 0;
  };
  fresh();
  return {
    ignores: (relativePath, isDir) => {
      if (relativePath === STATE_DIR || relativePath.startsWith(`${STATE_DIR}/`)) return true;
      if (++answers > ANSWERS_REMEMBERED) fresh();
      const probe = isDir ? `${relativePath}/` : relativePath;
      return builtin.ignores(probe) || user.ignores(probe);
    },
  };
};

// The rules of the last .strataignore text read. The rules remember every path they answered for:
// rebuilt for every scan, they would match every path of the folder against every pattern again
// (a third of a quiet round over 5,000 files).
let lastRules: { readonly text: string; readonly rules: IgnoreRules } | null = null;

/**
 * The rules of the folder at root: the built-in ones plus its .strataignore (gitignore syntax), if
 * any. Read at every call; the same rules object while the text stays the same.
 */
export const loadIgnoreRules = async (root: string): Promise<IgnoreRules> => {
  let text = '';
  try {
    text = await fs.readFile(path.join(root, IGNORE_FILE), 'utf8');
  } catch (e) {
    if (!isErrno(e, 'ENOENT', 'EISDIR')) throw e;
  }
  if (lastRules?.text !== text) lastRules = { text, rules: ignoreRules(text) };
  return lastRules.rules;
};
