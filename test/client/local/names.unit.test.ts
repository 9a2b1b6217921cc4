import { describe, expect, it } from 'vitest';
import { ignoreRules } from '../../../src/client/local/ignore.js';
import { conflictedCopyName, nameCollisionName, splitExtension } from '../../../src/client/local/names.js';
import { nameProblem } from '../../../src/domain/names.js';

describe('a conflicted copy', () => {
  const at = new Date(2026, 10, 22, 9, 5, 7);
  it('is named after the device and the moment, before the extension', () => {
    expect(conflictedCopyName('report.pdf', 'laptop', at)).toBe('report (conflicted copy from laptop 2026-11-22 090507).pdf');
    expect(conflictedCopyName('Makefile', 'laptop', at)).toBe('Makefile (conflicted copy from laptop 2026-11-22 090507)');
    expect(conflictedCopyName('.bashrc', 'laptop', at)).toBe('.bashrc (conflicted copy from laptop 2026-11-22 090507)');
    expect(conflictedCopyName('a.tar.gz', 'laptop', at, 2)).toBe('a.tar (conflicted copy from laptop 2026-11-22 090507 2).gz');
  });

  it('keeps to the 255-byte limit and to names the server accepts', () => {
    const name = conflictedCopyName(`${'é'.repeat(120)}.txt`, 'my/phone', at);
    expect(nameProblem(name)).toBeNull();
    expect(name.endsWith('(conflicted copy from my-phone 2026-11-22 090507).txt')).toBe(true);
    expect(nameCollisionName('README.md', 'laptop')).toBe('README (name conflict from laptop).md');
  });

  it('splits extensions the way people read them', () => {
    expect(splitExtension('notes.txt')).toEqual(['notes', '.txt']);
    expect(splitExtension('.env')).toEqual(['.env', '']);
  });
});

describe('ignore rules', () => {
  const rules = ignoreRules('build/\n*.log\n!keep.log\n');
  it('leave out the built-in junk and this device state, whatever .strataignore says', () => {
    for (const p of ['~$report.docx', 'x/scratch.tmp', '.DS_Store', 'a/.DS_Store', 'movie.mkv.part', 'dl.crdownload']) expect(rules.ignores(p, false)).toBe(true);
    expect(rules.ignores('.strata', true)).toBe(true);
    expect(rules.ignores('.strata/tokens.json', false)).toBe(true);
    expect(ignoreRules('!.strata/\n').ignores('.strata', true)).toBe(true);
  });

  it('follow .strataignore in gitignore syntax', () => {
    expect(rules.ignores('build', true)).toBe(true);
    expect(rules.ignores('src/build', true)).toBe(true);
    expect(rules.ignores('build', false)).toBe(false);
    expect(rules.ignores('debug.log', false)).toBe(true);
    expect(rules.ignores('keep.log', false)).toBe(false);
    expect(rules.ignores('.strataignore', false)).toBe(false);
    expect(rules.ignores('notes.txt', false)).toBe(false);
  });
});
