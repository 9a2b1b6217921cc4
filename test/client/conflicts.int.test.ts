import fs from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { silentReporter, type Reporter } from '../../src/client/sync/context.js';
import { SyncEngine } from '../../src/client/sync/engine.js';
import { planPush } from '../../src/client/sync/plan.js';
import { pullChanges, reconcile } from '../../src/client/sync/pull.js';
import { executePush } from '../../src/client/sync/push.js';
import { scanFolder } from '../../src/client/local/scan.js';
import { FAST, newAccount, newDevice, startServer, treeOf, type TestDevice, type TestServer } from './support/harness.js';

const CONFLICTED = / \(conflicted copy from (laptop|desktop) \d{4}-\d{2}-\d{2} \d{6}\)/;

describe('two devices that changed the same things', () => {
  let server: TestServer;
  let a: TestDevice;
  let b: TestDevice;
  const devices: TestDevice[] = [];
  beforeEach(async () => {
    server ??= await startServer();
    const account = await newAccount(server);
    a = await newDevice(server, account, 'laptop');
    b = await newDevice(server, account, 'desktop');
    devices.push(a, b);
  });
  afterAll(async () => {
    for (const d of devices) d.cleanup();
    await server?.close();
  });

  const both = async () => {
    await a.sync();
    await b.sync();
    await a.sync();
    expect(treeOf(a.dir)).toEqual(treeOf(b.dir));
    return Object.keys(treeOf(a.dir)).sort();
  };

  it('edited offline on both: one conflicted copy, both versions kept', async () => {
    a.write('doc.txt', 'v1');
    await both();
    a.write('doc.txt', 'edited on the laptop');
    b.write('doc.txt', 'edited on the desktop');
    await a.sync();
    const result = await b.sync();
    expect(result.inSync).toBe(true);
    const names = await both();
    const copies = names.filter((n) => CONFLICTED.test(n));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^doc \(conflicted copy from desktop .*\)\.txt$/);
    expect(a.read('doc.txt').toString()).toBe('edited on the laptop');
    expect(a.read(copies[0] as string).toString()).toBe('edited on the desktop');
  });

  it('a commit refused as version_conflict keeps the local bytes as a conflicted copy', async () => {
    a.write('plan.md', 'v1');
    await both();
    b.write('plan.md', 'the desktop version');
    // The desktop pulls, and only then does the laptop commit: its push meets version_conflict.
    const engine = await SyncEngine.open(b.dir, silentReporter, FAST);
    try {
      await pullChanges(engine.ctx);
      await reconcile(engine.ctx);
      a.write('plan.md', 'the laptop version');
      await a.sync();
      const plan = await planPush(engine.ctx, await scanFolder(b.dir, engine.ctx.rules));
      expect(plan.uploads.map((u) => u.path)).toEqual(['plan.md']);
      expect(await executePush(engine.ctx, plan)).toMatchObject({ done: 0, stale: 1 });
      expect((await engine.syncUntilQuiet(5000)).inSync).toBe(true);
    } finally {
      await engine.close();
    }
    const names = await both();
    expect(names.filter((n) => CONFLICTED.test(n))).toHaveLength(1);
    expect(a.read('plan.md').toString()).toBe('the laptop version');
    expect(names.map((n) => (CONFLICTED.test(n) ? a.read(n).toString() : null)).filter(Boolean)).toEqual(['the desktop version']);
  });

  /** A reporter that writes `data` at `rel` in `device` once the first downloaded bytes are in, before any of them is put in place. */
  const writingDuringDownload = (device: TestDevice, rel: string, data: string): Reporter => ({
    ...silentReporter,
    transfer: (kind) => {
      let written = kind !== 'download';
      return {
        advance: (bytes) => {
          if (written || bytes === 0) return;
          written = true;
          device.write(rel, data);
        },
        done: () => undefined,
      };
    },
  });

  it('a file made here while the same path was being downloaded is kept as a conflicted copy', async () => {
    a.write('report.txt', 'the laptop report');
    await a.sync();
    expect((await b.sync({}, writingDuringDownload(b, 'report.txt', 'a desktop report, written mid-download'))).inSync).toBe(true);
    const names = await both();
    expect(a.read('report.txt').toString()).toBe('the laptop report');
    expect(names.map((n) => (CONFLICTED.test(n) ? a.read(n).toString() : null)).filter(Boolean)).toEqual(['a desktop report, written mid-download']);
  });

  it('a synced file edited here while its new version was being downloaded is kept as a conflicted copy', async () => {
    a.write('notes.txt', 'v1');
    await both();
    a.write('notes.txt', 'v2 from the laptop');
    await a.sync();
    expect((await b.sync({}, writingDuringDownload(b, 'notes.txt', 'v1 edited on the desktop mid-download'))).inSync).toBe(true);
    const names = await both();
    expect(a.read('notes.txt').toString()).toBe('v2 from the laptop');
    expect(names.map((n) => (CONFLICTED.test(n) ? a.read(n).toString() : null)).filter(Boolean)).toEqual(['v1 edited on the desktop mid-download']);
  });

  it('the same bytes written on both is no conflict', async () => {
    a.write('same.txt', 'v1');
    await both();
    a.write('same.txt', 'identical edit');
    b.write('same.txt', 'identical edit');
    a.write('new/also-same.txt', 'new on both');
    b.write('new/also-same.txt', 'new on both');
    const names = await both();
    expect(names.filter((n) => CONFLICTED.test(n))).toEqual([]);
    expect(names).toEqual(['new', 'new/also-same.txt', 'same.txt']);
  });

  it('an edit here and a delete there: the edit survives, whichever syncs first', async () => {
    a.write('keep-me.txt', 'v1');
    a.write('keep-me-too.txt', 'v1');
    await both();
    // The delete reaches the server first.
    fs.rmSync(a.file('keep-me.txt'));
    await a.sync();
    b.write('keep-me.txt', 'edited on the desktop');
    // The edit reaches the server first.
    b.write('keep-me-too.txt', 'also edited on the desktop');
    await b.sync();
    fs.rmSync(a.file('keep-me-too.txt'));
    await both();
    expect(a.read('keep-me.txt').toString()).toBe('edited on the desktop');
    expect(a.read('keep-me-too.txt').toString()).toBe('also edited on the desktop');
  });

  it('a folder deleted there keeps what was edited in it here', async () => {
    a.write('project/a.txt', 'a');
    a.write('project/b.txt', 'b');
    a.write('elsewhere.txt', 'so that the folder is not emptied');
    await both();
    fs.rmSync(a.file('project'), { recursive: true });
    await a.sync();
    b.write('project/b.txt', 'b edited');
    await both();
    expect(treeOf(a.dir)).toEqual(treeOf(b.dir));
    expect(Object.keys(treeOf(a.dir)).sort()).toEqual(['elsewhere.txt', 'project', 'project/b.txt']);
  });

  it('a file new on both sides under one path keeps both', async () => {
    a.write('todo.txt', 'laptop list');
    b.write('todo.txt', 'desktop list');
    const names = await both();
    expect(names).toHaveLength(2);
    expect(a.read('todo.txt').toString()).toBe('laptop list');
    expect(a.read(names.find((n) => CONFLICTED.test(n)) as string).toString()).toBe('desktop list');
  });

  it('names equal under case folding or Unicode normalization are told apart, not lost', async () => {
    a.write('Readme.md', 'laptop readme');
    a.write('caf\u00e9.txt', 'nfc');
    await a.sync();
    b.write('README.md', 'desktop readme');
    b.write('cafe\u0301.txt', 'nfd');
    const result = await b.sync();
    expect(result.inSync).toBe(true);
    const names = await both();
    expect(names).toHaveLength(4);
    expect(names).toContain('README (name conflict from desktop).md');
    expect(names.map((n) => a.read(n).toString()).sort()).toEqual(['desktop readme', 'laptop readme', 'nfc', 'nfd']);
  });

  it('a move there and an edit here: the edit follows the file', async () => {
    a.write('draft.txt', 'v1');
    await both();
    fs.mkdirSync(a.file('moved'));
    fs.renameSync(a.file('draft.txt'), a.file('moved/final.txt'));
    await a.sync();
    b.write('draft.txt', 'v2 from the desktop');
    const names = await both();
    expect(names).toEqual(['moved', 'moved/final.txt']);
    expect(a.read('moved/final.txt').toString()).toBe('v2 from the desktop');
  });

  it('moved on both sides to different places: one place wins, nothing is duplicated or lost', async () => {
    a.write('x.txt', 'x');
    await both();
    fs.renameSync(a.file('x.txt'), a.file('x-laptop.txt'));
    fs.renameSync(b.file('x.txt'), b.file('x-desktop.txt'));
    const names = await both();
    expect(names).toHaveLength(1);
    expect(a.read(names[0] as string).toString()).toBe('x');
  });
});
