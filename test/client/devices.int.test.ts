import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noise, startServer, treeOf, useServer, type TestDevice } from './support/harness.js';

describe('two devices on one workspace', () => {
  const fixture = useServer(startServer);
  let a: TestDevice;
  let b: TestDevice;
  beforeAll(async () => {
    [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
  });

  it('brings files, nested folders and empty files to the other device', async () => {
    a.write('hello.txt', 'hello, strata\n');
    a.write('docs/deep/er/notes.md', '# notes\n');
    a.write('empty.bin', '');
    fs.mkdirSync(a.file('empty-folder'));
    a.write('docs/blob.bin', noise(3 * 1024 * 1024 + 17, 1));
    const first = await a.sync();
    expect(first.inSync).toBe(true);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(Object.keys(treeOf(b.dir))).toContain('empty-folder');
  });

  it('carries edits, moves, renames and deletes both ways', async () => {
    a.write('hello.txt', 'hello again\n');
    fs.renameSync(a.file('docs/deep'), a.file('deep-moved'));
    fs.renameSync(a.file('empty.bin'), a.file('still-empty.bin'));
    fs.rmSync(a.file('docs/blob.bin'));
    await a.sync();
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    b.write('from-b/new.txt', 'written on b');
    fs.rmSync(b.file('deep-moved'), { recursive: true });
    await b.sync();
    await a.sync();
    expect(treeOf(a.dir)).toEqual(treeOf(b.dir));
    expect(treeOf(a.dir)['from-b/new.txt']).toBeDefined();
    expect(treeOf(a.dir)['deep-moved']).toBeUndefined();
  });
});

describe('three devices on one workspace', () => {
  const fixture = useServer(startServer);

  it('converge to the same tree and bytes whoever changes what, ignore rules included', async () => {
    const [a, b, c] = (await fixture.devicesOf('a', 'b', 'c')) as [TestDevice, TestDevice, TestDevice];
    // What the laptop keeps to itself: ignored by the built-in rules (and by .strataignore while it exists).
    const localOnly = (p: string, rules: RegExp) => rules.test(p);
    const all = async (ignored: RegExp) => {
      for (let i = 0; i < 2; i++) for (const d of [a, b, c]) expect((await d.sync()).inSync).toBe(true);
      const synced = Object.fromEntries(Object.entries(treeOf(a.dir)).filter(([p]) => !localOnly(p, ignored)));
      expect(treeOf(b.dir)).toEqual(synced);
      expect(treeOf(c.dir)).toEqual(synced);
      return synced;
    };
    a.write('.strataignore', '*.log\nbuild/\n');
    a.write('src/main.c', 'int main() {}');
    a.write('src/app.log', 'never synced');
    a.write('build/out.o', 'never synced');
    a.write('notes.tmp', 'never synced');
    a.write('.DS_Store', 'never synced');
    a.write('~$draft.docx', 'never synced');
    b.write('b/only.txt', 'from b');
    c.write('c/deep/er/file.bin', noise(300_000, 3));
    let tree = await all(/\.log$|^build|\.tmp$|DS_Store|~\$/);
    expect(Object.keys(treeOf(b.dir)).filter((p) => /\.log$|build|\.tmp$|DS_Store|~\$/.test(p))).toEqual([]);
    expect(tree['.strataignore']).toBeDefined();
    expect(fs.existsSync(a.file('src/app.log'))).toBe(true);

    b.write('src/main.c', 'int main() { return 0; }');
    fs.renameSync(c.file('b'), c.file('b-renamed'));
    fs.renameSync(a.file('c/deep'), a.file('deep'));
    fs.rmSync(b.file('.strataignore'));
    // Without .strataignore, only the built-in rules hold: the log and the build output sync now.
    tree = await all(/\.tmp$|DS_Store|~\$/);
    expect(Object.keys(tree).sort()).toEqual(['b-renamed', 'b-renamed/only.txt', 'build', 'build/out.o', 'c', 'deep', 'deep/er', 'deep/er/file.bin', 'src', 'src/app.log', 'src/main.c']);
    expect(c.read('src/main.c').toString()).toBe('int main() { return 0; }');
  });
});
