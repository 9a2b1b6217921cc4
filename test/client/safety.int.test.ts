import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FolderProblem } from '../../src/client/state/layout.js';
import { startServer, treeOf, useServer, type TestDevice } from './support/harness.js';

describe('a synced folder that is not what it was', () => {
  const fixture = useServer(startServer);
  const pair = async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    for (let i = 0; i < 5; i++) a.write(`photos/p${i}.jpg`, `photo ${i}`);
    a.write('notes.txt', 'notes');
    await a.sync();
    await b.sync();
    return { a, b, before: treeOf(b.dir) };
  };

  it('missing entirely (an unmounted disk): stops, says so, deletes nothing', async () => {
    const { a, b, before } = await pair();
    fs.rmSync(a.dir, { recursive: true });
    await expect(a.sync()).rejects.toThrow(FolderProblem);
    await expect(a.sync()).rejects.toThrow(/does not exist \(an unmounted disk\?\)\. Nothing was synced and nothing was deleted/);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(before);
  });

  it('without its .strata marker (an empty mount point): stops, says so, deletes nothing', async () => {
    const { a, b, before } = await pair();
    for (const name of fs.readdirSync(a.dir)) fs.rmSync(`${a.dir}/${name}`, { recursive: true });
    await expect(a.sync()).rejects.toThrow(/has no \.strata\/ marker.*Nothing was synced and nothing was deleted/);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(before);
  });

  it('emptied with its marker still there: stops until --confirm-deletes', async () => {
    const { a, b, before } = await pair();
    for (const name of fs.readdirSync(a.dir)) if (name !== '.strata') fs.rmSync(`${a.dir}/${name}`, { recursive: true });
    await expect(a.sync()).rejects.toThrow(/is empty, but 6 file\(s\) were synced here: nothing was deleted on the server/);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(before);
    expect((await a.sync({ confirmDeletes: true })).inSync).toBe(true);
    await b.sync();
    expect(treeOf(b.dir)).toEqual({});
  });

  it('more than half of a folder (over 100 files) deleted in one scan: paused until --confirm-deletes', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    for (let i = 0; i < 120; i++) a.write(`archive/f${i}.txt`, `file ${i}`);
    for (let i = 0; i < 3; i++) a.write(`keep/k${i}.txt`, `kept ${i}`);
    await a.sync();
    await b.sync();
    const before = treeOf(b.dir);
    for (let i = 0; i < 101; i++) fs.rmSync(a.file(`archive/f${i}.txt`));
    a.write('keep/new.txt', 'other changes still go through');
    const paused = await a.sync();
    expect(paused.inSync).toBe(false);
    expect(paused.held).toEqual({ folder: 'archive', files: 101, of: 120 });
    await b.sync();
    expect(Object.keys(treeOf(b.dir)).filter((p) => p.startsWith('archive/'))).toHaveLength(120);
    expect(treeOf(b.dir)['keep/new.txt']).toBeDefined();
    expect((await a.sync({ confirmDeletes: true })).inSync).toBe(true);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(Object.keys(treeOf(b.dir)).filter((p) => p.startsWith('archive/'))).toHaveLength(19);
    expect(Object.keys(before).length).toBe(125);
  });

  it('a hundred deletes or fewer are not a mass delete', async () => {
    const [a] = (await fixture.devicesOf('laptop')) as [TestDevice];
    for (let i = 0; i < 104; i++) a.write(`few/f${i}.txt`, `file ${i}`);
    await a.sync();
    for (let i = 0; i < 100; i++) fs.rmSync(a.file(`few/f${i}.txt`));
    expect((await a.sync()).inSync).toBe(true);
  });
});
