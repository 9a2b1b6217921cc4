import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { noise, startServerProcess, treeOf, useServer, type TestDevice } from './support/harness.js';

// The 5,000 small files of the brief (STRATA_TEST_SMALL_FILES overrides; at least 1,200, so that
// the moved folder below holds 1,000 of them).
const FILES = Math.max(1200, Number(process.env.STRATA_TEST_SMALL_FILES ?? 5000));
// The first 1,000 files live under f0: the folder that moves.
const MOVED = 1000;
const pathOf = (i: number) => (i < MOVED ? `f0/sub${i % 7}/file${i}.txt` : `f${1 + (i % 4)}/sub${i % 7}/file${i}.txt`);

/** The per-file calls and the batch calls of docs/api-extensions.md, as the server counted them. */
const ROUTES = {
  uploadRequest: ['POST', '/v1/files/upload_request'],
  chunkPut: ['PUT', '/v1/chunks/:hash'],
  commit: ['POST', '/v1/files/commit'],
  content: ['GET', '/v1/files/:fileId/content'],
  chunkGet: ['GET', '/v1/chunks/:hash'],
  missing: ['POST', '/v1/workspaces/:workspaceId/chunks/missing'],
  chunks: ['POST', '/v1/workspaces/:workspaceId/chunks'],
  fetch: ['POST', '/v1/workspaces/:workspaceId/chunks/fetch'],
  commitBatch: ['POST', '/v1/files/commit_batch'],
} as const;
type Counts = Record<keyof typeof ROUTES, number>;

describe(`${FILES} small files between two devices`, () => {
  const fixture = useServer(startServerProcess);
  let a: TestDevice;
  let b: TestDevice;
  const counts = async (): Promise<Counts> =>
    Object.fromEntries(await Promise.all(Object.entries(ROUTES).map(async ([name, [method, route]]) => [name, await fixture.server().requests(method, route)]))) as Counts;
  const since = (before: Counts, after: Counts): Counts =>
    Object.fromEntries(Object.keys(ROUTES).map((name) => [name, after[name as keyof Counts] - before[name as keyof Counts]])) as Counts;
  let push: Counts;
  let pull: Counts;

  beforeAll(async () => {
    [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
  });

  it('arrive on the other device, every byte the same', async () => {
    for (let i = 0; i < FILES; i++) a.write(pathOf(i), noise(1 + (i % 4096), i));
    const start = await counts();
    expect((await a.sync({}, undefined, 30_000)).inSync).toBe(true);
    const pushed = await counts();
    expect((await b.sync({}, undefined, 30_000)).inSync).toBe(true);
    [push, pull] = [since(start, pushed), since(pushed, await counts())];
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  }, 300_000);

  it('go many to a request: no per-file upload, commit or download call', () => {
    expect(push).toMatchObject({ uploadRequest: 0, chunkPut: 0, commit: 0 });
    // Batches of at most 500 files: one chunks/missing and one commit_batch each, the chunks in a few
    // requests; a batch whose chunks went up while the folders were being made asked chunks/missing twice.
    expect(push.commitBatch).toBeGreaterThanOrEqual(FILES / 500);
    expect(push.commitBatch).toBeLessThanOrEqual(FILES / 250);
    expect(push.missing).toBeGreaterThanOrEqual(push.commitBatch);
    expect(push.missing).toBeLessThanOrEqual(2 * push.commitBatch);
    expect(push.chunks).toBeGreaterThan(0);
    expect(push.chunks).toBeLessThanOrEqual(2 * push.commitBatch);
    expect(pull).toMatchObject({ content: 0, chunkGet: 0, uploadRequest: 0, commit: 0, commitBatch: 0 });
    // Up to 256 chunks a fetch.
    expect(pull.fetch).toBeGreaterThanOrEqual(FILES / 256);
    expect(pull.fetch).toBeLessThanOrEqual(FILES / 100);
  });

  it(`a moved folder of ${MOVED} files moves on the other device without a byte of any file sent or fetched`, async () => {
    const inode = fs.statSync(b.file('f0/sub0/file0.txt')).ino;
    const [bytesIn, before] = [await fixture.server().bytesIn(), await counts()];
    const moves = await fixture.server().requests('POST', '/v1/nodes/:nodeId/move');
    fs.mkdirSync(a.file('archive'));
    fs.renameSync(a.file('f0'), a.file('archive/f0'));
    await a.sync();
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(Object.keys(treeOf(b.dir)).filter((p) => p.startsWith('archive/f0/') && p.endsWith('.txt'))).toHaveLength(MOVED);
    expect(await fixture.server().bytesIn()).toBe(bytesIn);
    expect(since(before, await counts())).toMatchObject({ content: 0, chunkGet: 0, fetch: 0, chunks: 0, chunkPut: 0, commit: 0, commitBatch: 0 });
    expect((await fixture.server().requests('POST', '/v1/nodes/:nodeId/move')) - moves).toBe(1);
    // Renamed in place on the other device, not written again.
    expect(fs.statSync(b.file('archive/f0/sub0/file0.txt')).ino).toBe(inode);
  }, 120_000);
});
