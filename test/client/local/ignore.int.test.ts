import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IGNORE_FILE, loadIgnoreRules } from '../../../src/client/local/ignore.js';

describe("a folder's ignore rules", () => {
  const dirs: string[] = [];
  const folder = (strataignore: string | null) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ignore-'));
    dirs.push(dir);
    if (strataignore !== null) fs.writeFileSync(path.join(dir, IGNORE_FILE), strataignore);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are the same rules (with what they already matched) while .strataignore reads the same', async () => {
    const a = folder('*.log\n');
    const b = folder('*.log\n');
    const first = await loadIgnoreRules(a);
    expect(await loadIgnoreRules(a)).toBe(first);
    expect(await loadIgnoreRules(b)).toBe(first);
    expect(first.ignores('x/y.log', false)).toBe(true);
  });

  it('follow .strataignore as soon as it changes, and go back with it', async () => {
    const dir = folder('*.log\n');
    const before = await loadIgnoreRules(dir);
    expect(before.ignores('build', true)).toBe(false);
    fs.writeFileSync(path.join(dir, IGNORE_FILE), 'build/\n');
    const after = await loadIgnoreRules(dir);
    expect(after.ignores('build', true)).toBe(true);
    expect(after.ignores('x/y.log', false)).toBe(false);
    fs.rmSync(path.join(dir, IGNORE_FILE));
    const none = await loadIgnoreRules(dir);
    expect([none.ignores('build', true), none.ignores('x/y.log', false), none.ignores('a.tmp', false)]).toEqual([false, false, true]);
    expect(await loadIgnoreRules(folder(null))).toBe(none);
  });
});
