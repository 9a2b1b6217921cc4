import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerUnavailable } from '../../src/client/api/errors.js';
import { describeFile, contentHash } from '../../src/client/chunking/hashChunks.js';
import { silentReporter, type Reporter } from '../../src/client/sync/context.js';
import { SyncEngine } from '../../src/client/sync/engine.js';
import { sendCommit } from '../../src/client/transfer/upload.js';
import { until } from './support/cli.js';
import { FAST, newAccount, newDevice, startServer, treeOf, type TestDevice, type TestServer } from './support/harness.js';
import { startProxy, type Proxy } from './support/proxy.js';

const CONFLICTED = / \(conflicted copy from laptop \d{4}-\d{2}-\d{2} \d{6}\)/;

describe('a device that loses the server', () => {
  let server: TestServer;
  let proxy: Proxy;
  const devices: TestDevice[] = [];
  beforeAll(async () => {
    server = await startServer();
    proxy = await startProxy(server.url);
  });
  afterAll(async () => {
    for (const d of devices) d.cleanup();
    await proxy?.close();
    await server?.close();
  });

  it('keeps its changes while offline, backs off, and sends them on reconnect; conflicts as usual', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop', { via: proxy.url });
    const b = await newDevice(server, account, 'desktop');
    devices.push(a, b);
    a.write('shared.txt', 'v1');
    a.write('old/name.txt', 'moving');
    a.write('gone.txt', 'deleted offline');
    await a.sync();
    await b.sync();

    proxy.offline();
    a.write('shared.txt', 'offline edit on the laptop');
    a.write('offline/new.txt', 'written offline');
    fs.renameSync(a.file('old'), a.file('renamed'));
    fs.rmSync(a.file('gone.txt'));
    const before = proxy.attempts();
    const started = Date.now();
    await expect(a.sync({ maxBackoffMs: 60_000 }, silentReporter, 6_000)).rejects.toThrow(ServerUnavailable);
    // 1 s, 2 s, 4 s...: a handful of tries in six seconds, not a busy loop.
    expect(proxy.attempts() - before).toBeLessThan(12);
    expect(Date.now() - started).toBeGreaterThan(5_000);

    b.write('shared.txt', 'edit on the desktop meanwhile');
    await b.sync();
    proxy.online();
    expect((await a.sync()).inSync).toBe(true);
    await b.sync();
    await a.sync();
    const tree = treeOf(a.dir);
    expect(treeOf(b.dir)).toEqual(tree);
    const names = Object.keys(tree).sort();
    expect(names.filter((n) => CONFLICTED.test(n))).toHaveLength(1);
    expect(names).toEqual(expect.arrayContaining(['offline/new.txt', 'renamed/name.txt', 'shared.txt']));
    expect(names).not.toContain('gone.txt');
    expect(names).not.toContain('old');
  }, 60_000);

  it('while watching: retries with backoff and syncs as soon as the server is back', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop', { via: proxy.url });
    const b = await newDevice(server, account, 'desktop');
    devices.push(a, b);
    const warnings: string[] = [];
    const reporter: Reporter = { ...silentReporter, warn: (m) => void warnings.push(m) };
    proxy.offline();
    const stop = new AbortController();
    const engine = await SyncEngine.open(a.dir, reporter, { ...FAST, maxBackoffMs: 2_000 }, stop.signal);
    const watching = engine.watch();
    try {
      a.write('made-offline.txt', 'queued');
      await until(() => warnings.some((w) => w.includes('server unreachable')), 10_000, 50);
      proxy.online();
      await until(async () => {
        await b.sync();
        return fs.existsSync(b.file('made-offline.txt'));
      }, 20_000, 200);
      expect(b.read('made-offline.txt').toString()).toBe('queued');
    } finally {
      stop.abort();
      await watching;
      await engine.close();
    }
  }, 60_000);

  it('after a crash between a commit and its answer: the retry appends nothing twice', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop');
    devices.push(a);
    await a.sync();
    a.write('report.pdf', crypto.randomBytes(300_000));
    const described = await describeFile(a.file('report.pdf'));
    const stat = fs.statSync(a.file('report.pdf'));
    const engine = await SyncEngine.open(a.dir, silentReporter, FAST);
    const pending = {
      key: crypto.randomUUID(),
      path: 'report.pdf',
      parentId: engine.ctx.config.rootId,
      name: 'report.pdf',
      fileId: null,
      baseVersionId: null,
      contentHash: contentHash(described.chunks),
      chunks: described.chunks,
      stat: { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino },
    };
    engine.ctx.state.setPending(pending);
    await engine.ctx.state.flush();
    // The commit reaches the server; the answer never reaches the journal.
    const first = await sendCommit(engine.ctx, pending, { advance: () => undefined, done: () => undefined });
    await engine.close();
    const bytes = await server.bytesIn();
    expect((await a.sync()).inSync).toBe(true);
    expect(await server.bytesIn()).toBe(bytes);
    const reopened = await SyncEngine.open(a.dir, silentReporter, FAST);
    try {
      const { events } = await reopened.ctx.api.changes(0);
      const commits = events.filter((e) => e.type === 'FileVersionCommitted');
      expect(commits.map((e) => e.data.versionId)).toEqual([first.versionId]);
      expect(reopened.ctx.state.synced.get('report.pdf')).toMatchObject({ nodeId: first.fileId, versionId: first.versionId });
      expect(reopened.ctx.state.pending.size).toBe(0);
    } finally {
      await reopened.close();
    }
  });
});
