import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, describeFile } from '../../src/client/chunking/hashChunks.js';
import type { PendingCommit } from '../../src/client/state/model.js';
import { silentReporter, type Reporter } from '../../src/client/sync/context.js';
import { SyncEngine, type RoundStats } from '../../src/client/sync/engine.js';
import { sendMissingChunks } from '../../src/client/transfer/batchUpload.js';
import { commitBodyOf } from '../../src/client/transfer/upload.js';
import { FAST, newAccount, newDevice, noise, startServer, treeOf, type TestDevice, type TestServer } from './support/harness.js';
import { SLOW_MS, startHttpProxy, type HttpProxy, type Interference } from './support/httpProxy.js';

const BATCH_ROUTES = [/\/chunks\/missing$/, /\/chunks$/, /\/chunks\/fetch$/, /\/files\/commit_batch$/, /\/folders\/create_batch$/];
const isBatchCall = (path: string) => BATCH_ROUTES.some((r) => r.test(path));
const ignoreProgress = { advance: () => undefined, done: () => undefined };

/** The workspace's FileVersionCommitted events, as the server has them. */
const committed = async (device: TestDevice) => {
  const engine = await SyncEngine.open(device.dir, silentReporter, FAST);
  try {
    const events = [];
    for (let cursor = 0; ; ) {
      const page = await engine.ctx.api.changes(cursor);
      events.push(...page.events);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    return events.filter((e) => e.type === 'FileVersionCommitted');
  } finally {
    await engine.close();
  }
};

describe('small files sent and fetched many to a request', () => {
  let server: TestServer;
  let interference: (method: string, path: string) => Interference = () => 'pass';
  let proxy: HttpProxy;
  const devices: TestDevice[] = [];
  beforeAll(async () => {
    server = await startServer();
    proxy = await startHttpProxy(server.url, (method, path) => interference(method, path));
  });
  afterAll(async () => {
    for (const d of devices) d.cleanup();
    await proxy?.close();
    await server?.close();
  });
  const pair = async (options: { bVia?: string; aVia?: string } = {}) => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop', { via: options.aVia });
    const b = await newDevice(server, account, 'desktop', { via: options.bVia });
    devices.push(a, b);
    return { a, b };
  };

  it('after a crash between a commit_batch and its answer, half the batch never sent: the retry commits each file once and sends no chunk twice', async () => {
    const { a } = await pair();
    await a.sync();
    for (let i = 0; i < 20; i++) a.write(`n${i}.txt`, noise(100 + i * 37, i));
    const engine = await SyncEngine.open(a.dir, silentReporter, FAST);
    const pending: PendingCommit[] = [];
    for (let i = 0; i < 20; i++) {
      const rel = `n${i}.txt`;
      const { chunks } = await describeFile(a.file(rel));
      const stat = fs.statSync(a.file(rel));
      const { rootId } = engine.ctx.config;
      pending.push({ key: `crash-${i}`, path: rel, parentId: rootId, name: rel, fileId: null, baseVersionId: null, contentHash: contentHash(chunks), chunks, stat: { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino } });
    }
    for (const p of pending) engine.ctx.state.setPending(p);
    await engine.ctx.state.flush();
    // The first half reaches the server, chunks and commits; the answer never reaches the journal.
    const sent = pending.slice(0, 10);
    expect(await sendMissingChunks(engine.ctx, sent, ignoreProgress)).toEqual(new Set());
    const answer = await engine.ctx.api.commitBatch(sent.map(commitBodyOf));
    expect(answer.results.map((r) => r.status)).toEqual(Array(10).fill(201));
    await engine.close();

    const bytes = await server.bytesIn();
    const before = await server.requests('POST', '/v1/files/commit_batch');
    expect((await a.sync()).inSync).toBe(true);
    // Only the second half's bytes travelled; the first half was answered from its keys.
    expect((await server.bytesIn()) - bytes).toBe(pending.slice(10).reduce((sum, p) => sum + p.stat.size, 0));
    expect((await server.requests('POST', '/v1/files/commit_batch')) - before).toBe(2);
    const versions = await committed(a);
    expect(versions).toHaveLength(20);
    expect(new Set(versions.map((v) => v.nodeId)).size).toBe(20);
    expect(versions.slice(0, 10).map((v) => v.data.versionId)).toEqual(answer.results.map((r) => ('versionId' in r ? r.versionId : null)));
  });

  it('makes the folders of a first sync a wave to a request, sends the chunks meanwhile, and each chunk once', async () => {
    const seen: { what: string; at: number }[] = [];
    interference = (method, path) => {
      if (method !== 'POST') return 'pass';
      if (path === '/v1/folders' || path === '/v1/folders/create_batch') seen.push({ what: path.endsWith('batch') ? 'folders' : 'folder', at: performance.now() });
      if (/\/chunks$/.test(path)) seen.push({ what: 'chunks', at: performance.now() });
      // A slow answer for the folders: what the device does while it waits shows.
      return path === '/v1/folders/create_batch' ? 'slow' : 'pass';
    };
    try {
      const { a } = await pair({ aVia: proxy.url });
      let size = 0;
      for (let i = 0; i < 300; i++) {
        const bytes = noise(200 + i, 9000 + i);
        a.write(`f${i % 60}/sub/n${i}.txt`, bytes);
        size += bytes.length;
      }
      const bytes = await server.bytesIn();
      expect((await a.sync()).inSync).toBe(true);
      // 120 folders in two waves (f*, then f*/sub): two requests, none one at a time.
      expect(seen.filter((x) => x.what === 'folders')).toHaveLength(2);
      expect(seen.filter((x) => x.what === 'folder')).toHaveLength(0);
      // The first chunks went up while the first wave's answer was still held back.
      const firstWave = seen.find((x) => x.what === 'folders')?.at ?? Number.NaN;
      const firstChunks = seen.find((x) => x.what === 'chunks')?.at ?? Number.NaN;
      expect(firstChunks - firstWave).toBeLessThan(SLOW_MS);
      // Sent early or with their commits, never both.
      expect((await server.bytesIn()) - bytes).toBe(size);
      expect((await committed(a)).length).toBe(300);
    } finally {
      interference = () => 'pass';
    }
  });

  it('from a server without the batch calls: every file one at a time, the same tree', async () => {
    interference = (_method, path) => (isBatchCall(path) ? 'no_route' : 'pass');
    try {
      const { a, b } = await pair({ aVia: proxy.url, bVia: proxy.url });
      for (let i = 0; i < 30; i++) a.write(`${i % 2 === 0 ? 'old' : 'older'}/o${i}.txt`, noise(200 + i, 100 + i));
      const [commits, contents] = [await server.requests('POST', '/v1/files/commit'), await server.requests('GET', '/v1/files/:fileId/content')];
      const folders = await server.requests('POST', '/v1/folders');
      expect((await a.sync()).inSync).toBe(true);
      expect((await b.sync()).inSync).toBe(true);
      expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
      expect((await server.requests('POST', '/v1/folders')) - folders).toBe(2);
      expect((await server.requests('POST', '/v1/files/commit')) - commits).toBe(30);
      expect((await server.requests('GET', '/v1/files/:fileId/content')) - contents).toBe(30);
    } finally {
      interference = () => 'pass';
    }
  });

  it("from a server without the batch calls: a large file's edit goes by upload_request and PUT, its new chunks sent once", async () => {
    interference = (_method, path) => (isBatchCall(path) ? 'no_route' : 'pass');
    try {
      const { a, b } = await pair({ aVia: proxy.url, bVia: proxy.url });
      const original = noise(12 * 1024 * 1024, 400);
      a.write('big.bin', original);
      expect((await a.sync()).inSync).toBe(true);
      expect((await b.sync()).inSync).toBe(true);
      const old = new Set((await describeFile(a.file('big.bin'))).chunks.map((c) => c.hash));
      a.write('big.bin', Buffer.concat([Buffer.from('edit'), original]));
      const fresh = (await describeFile(a.file('big.bin'))).chunks.filter((c) => !old.has(c.hash));
      const [bytes, requests, puts] = [await server.bytesIn(), await server.requests('POST', '/v1/files/upload_request'), await server.requests('PUT', '/v1/chunks/:hash')];
      expect((await a.sync()).inSync).toBe(true);
      expect((await server.bytesIn()) - bytes).toBe(fresh.reduce((sum, c) => sum + c.size, 0));
      expect((await server.requests('POST', '/v1/files/upload_request')) - requests).toBe(1);
      expect((await server.requests('PUT', '/v1/chunks/:hash')) - puts).toBe(fresh.length);
      expect((await b.sync()).inSync).toBe(true);
      expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    } finally {
      interference = () => 'pass';
    }
  });

  it('a chunk that arrives damaged is never written; its file comes with the next round', async () => {
    const { a, b } = await pair({ bVia: proxy.url });
    for (let i = 0; i < 20; i++) a.write(`photos/p${i}.jpg`, noise(1000 + i, 300 + i));
    expect((await a.sync()).inSync).toBe(true);
    let damaged = 0;
    interference = (_method, path) => (path.endsWith('/chunks/fetch') && damaged++ === 0 ? 'damage' : 'pass');
    const warnings: string[] = [];
    const reporter: Reporter = { ...silentReporter, warn: (m) => void warnings.push(m) };
    try {
      expect((await b.sync({}, reporter)).inSync).toBe(true);
    } finally {
      interference = () => 'pass';
    }
    expect(damaged).toBeGreaterThanOrEqual(2);
    expect(warnings.filter((w) => w.includes('arrived damaged'))).toHaveLength(1);
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  });
  it('a pull of more than a page places the first page while the rest is fetched, and what later pages change wins', async () => {
    const { a, b } = await pair({ bVia: proxy.url });
    for (let i = 0; i < 1100; i++) a.write(`p/n${i}.txt`, noise(100 + (i % 200), 20_000 + i));
    for (let i = 0; i < 200; i++) a.write(`q/m${i}.txt`, noise(150 + i, 30_000 + i));
    expect((await a.sync()).inSync).toBe(true);
    // Later events undo earlier ones: files of the first page deleted, a folder renamed.
    for (let i = 0; i < 150; i++) fs.rmSync(a.file(`p/n${i}.txt`));
    fs.renameSync(a.file('q'), a.file('q2'));
    expect((await a.sync()).inSync).toBe(true);

    const seen: { what: 'changes' | 'fetch'; at: number }[] = [];
    interference = (method, path) => {
      if (path.endsWith('/changes')) {
        seen.push({ what: 'changes', at: performance.now() });
        // Every page after the first is a slow one: the device has the first page's files to write meanwhile.
        return seen.filter((x) => x.what === 'changes').length > 1 ? 'slow' : 'pass';
      }
      if (method === 'POST' && path.endsWith('/chunks/fetch')) seen.push({ what: 'fetch', at: performance.now() });
      return 'pass';
    };
    try {
      expect((await b.sync()).inSync).toBe(true);
    } finally {
      interference = () => 'pass';
    }
    const secondPage = seen.filter((x) => x.what === 'changes')[1]?.at ?? Number.NaN;
    const firstFetch = seen.find((x) => x.what === 'fetch')?.at ?? Number.NaN;
    // The second page was asked for before any chunk was fetched, and the first fetch went out
    // while that page's answer was still held back.
    expect(secondPage).toBeLessThan(firstFetch);
    expect(firstFetch - secondPage).toBeLessThan(SLOW_MS);
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(Object.keys(treeOf(b.dir)).filter((f) => f.startsWith('p/'))).toHaveLength(950);
    expect(fs.readdirSync(b.file('.strata/tmp'))).toEqual([]);
  });
  it('a push of many files pulls its own events while it runs, not all after its last commit', async () => {
    const { a } = await pair({ aVia: proxy.url });
    expect((await a.sync()).inSync).toBe(true);
    for (let i = 0; i < 1500; i++) a.write(`r/n${i}.txt`, noise(100 + (i % 300), 40_000 + i));
    const seen: { what: 'changes' | 'commit_batch'; at: number }[] = [];
    interference = (method, path) => {
      if (path.endsWith('/changes')) seen.push({ what: 'changes', at: performance.now() });
      // Slow commits: the push waits on the server, as a first sync of thousands of files does.
      if (method === 'POST' && path.endsWith('/files/commit_batch')) {
        seen.push({ what: 'commit_batch', at: performance.now() });
        return 'slow';
      }
      return 'pass';
    };
    try {
      expect((await a.sync()).inSync).toBe(true);
    } finally {
      interference = () => 'pass';
    }
    const commits = seen.filter((x) => x.what === 'commit_batch');
    expect(commits.length).toBeGreaterThanOrEqual(3);
    const [first, last] = [commits[0]?.at ?? Number.NaN, commits.at(-1)?.at ?? Number.NaN];
    // A pull went out while commits were waiting on the server: after the first was sent, before the
    // last was answered (held SLOW_MS). The batches may all go out within a few milliseconds.
    expect(seen.filter((x) => x.what === 'changes' && x.at > first && x.at < last + SLOW_MS).length).toBeGreaterThan(0);
    expect((await committed(a)).filter((e) => e.data.name !== undefined && String(e.data.name).startsWith('n'))).toHaveLength(1500);
  });
  it('a watching device that receives many batches scans its folder once they stop, not after each round of its own downloads', async () => {
    const { a, b } = await pair();
    expect((await a.sync()).inSync).toBe(true);
    const stop = new AbortController();
    const engine = await SyncEngine.open(b.dir, silentReporter, FAST, stop.signal);
    const rounds: RoundStats[] = [];
    let ready: () => void = () => undefined;
    const firstRound = new Promise<void>((resolve) => (ready = resolve));
    const watching = engine.watch((stats) => {
      rounds.push(stats);
      ready();
    });
    try {
      await firstRound;
      for (let i = 0; i < 1500; i++) a.write(`w/n${i}.txt`, noise(100 + (i % 300), 50_000 + i));
      expect((await a.sync()).inSync).toBe(true);
      const want = treeOf(a.dir);
      for (let waited = 0; JSON.stringify(treeOf(b.dir)) !== JSON.stringify(want); waited += 100) {
        if (waited > 30_000) throw new Error('the watching device did not get every file');
        await new Promise((r) => setTimeout(r, 100));
      }
      // The confirming scan, once the server has been quiet.
      await new Promise((r) => setTimeout(r, 2_000));
      // An edit to a file it just downloaded is not its own write: it goes up.
      b.write('w/n7.txt', 'edited on the watching device');
      for (let waited = 0; !rounds.some((r) => r.pushed > 0); waited += 100) {
        if (waited > 15_000) throw new Error('the edit was not sent');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      stop.abort();
      await watching;
      await engine.close();
    }
    const downloading = rounds.filter((r) => r.applied > 0);
    expect(downloading.length).toBeGreaterThanOrEqual(2);
    // The first round, one confirming scan after the downloads, and the round of the edit: none of
    // the downloading rounds was followed by a scan for its own writes.
    expect(rounds.filter((r) => r.scanned).length).toBeLessThanOrEqual(4);
    expect(rounds.filter((r) => r.scanned && r.applied === 0 && r.pushed === 0).length).toBeGreaterThanOrEqual(1);
    expect((await a.sync()).inSync).toBe(true);
    expect(fs.readFileSync(a.file('w/n7.txt'), 'utf8')).toBe('edited on the watching device');
  });
});
