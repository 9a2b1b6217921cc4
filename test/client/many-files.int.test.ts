import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, newDevice, noise, startServerProcess, treeOf, type TestDevice } from './support/harness.js';

const FILES = Number(process.env.STRATA_TEST_SMALL_FILES ?? 5000);
const FOLDERS = 5;

describe(`${FILES} small files between two devices`, () => {
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  let a: TestDevice;
  let b: TestDevice;
  beforeAll(async () => {
    server = await startServerProcess();
    const account = await newAccount(server);
    a = await newDevice(server, account, 'laptop');
    b = await newDevice(server, account, 'desktop');
  });
  afterAll(async () => {
    a?.cleanup();
    b?.cleanup();
    await server?.close();
  });

  it('arrive on the other device, every byte the same', async () => {
    for (let i = 0; i < FILES; i++) a.write(`f${i % FOLDERS}/sub${i % 7}/file${i}.txt`, noise(1 + (i % 4096), i));
    expect((await a.sync({}, undefined, 30_000)).inSync).toBe(true);
    expect((await b.sync({}, undefined, 30_000)).inSync).toBe(true);
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  }, 300_000);

  it(`a moved folder of ${FILES / FOLDERS} files moves on the other device without a byte of any file sent or fetched`, async () => {
    const inode = fs.statSync(b.file('f0/sub0/file0.txt')).ino;
    const [bytesIn, contents, chunks] = [await server.bytesIn(), await server.requests('GET', '/v1/files/:fileId/content'), await server.requests('GET', '/v1/chunks/:hash')];
    const moves = await server.requests('POST', '/v1/nodes/:nodeId/move');
    fs.mkdirSync(a.file('archive'));
    fs.renameSync(a.file('f0'), a.file('archive/f0'));
    await a.sync();
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(await server.bytesIn()).toBe(bytesIn);
    expect(await server.requests('GET', '/v1/files/:fileId/content')).toBe(contents);
    expect(await server.requests('GET', '/v1/chunks/:hash')).toBe(chunks);
    expect((await server.requests('POST', '/v1/nodes/:nodeId/move')) - moves).toBe(1);
    // Renamed in place on the other device, not written again.
    expect(fs.statSync(b.file('archive/f0/sub0/file0.txt')).ino).toBe(inode);
  }, 120_000);
});
