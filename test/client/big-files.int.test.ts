import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutPoints, DEFAULT_CHUNKING } from '../../src/client/chunking/fastcdc.js';
import { describeFile } from '../../src/client/chunking/hashChunks.js';
import { silentReporter } from '../../src/client/sync/context.js';
import { SyncEngine } from '../../src/client/sync/engine.js';
import { describeEarly } from '../../src/client/sync/plan.js';
import { statOf } from '../../src/client/local/scan.js';
import { uploadAhead } from '../../src/client/transfer/uploadAhead.js';
import { FAST, MiB, noise, startServerProcess, useServer, type TestDevice } from './support/harness.js';

// The brief's sizes by default; a slower machine may run smaller ones (say so when you do).
const BIG_MIB = Number(process.env.STRATA_TEST_BIG_MIB ?? 200);
const DELTA_MIB = Number(process.env.STRATA_TEST_DELTA_MIB ?? 100);

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('large files between two devices', () => {
  const fixture = useServer(startServerProcess);
  let a: TestDevice;
  let b: TestDevice;
  beforeAll(async () => {
    [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
  });

  it(`carries a ${BIG_MIB} MiB file, every chunk once`, async () => {
    a.write('video.bin', noise(BIG_MIB * MiB, 200));
    const before = await fixture.server().bytesIn();
    await a.sync();
    expect((await fixture.server().bytesIn()) - before).toBe(BIG_MIB * MiB);
    await b.sync();
    expect(sha(b.file('video.bin'))).toBe(sha(a.file('video.bin')));
  });

  it(`sends at most two chunks after a 1-byte insertion at offset 0 of a ${DELTA_MIB} MiB file, and fetches at most two`, async () => {
    const original = noise(DELTA_MIB * MiB, 100);
    a.write('data.bin', original);
    await a.sync();
    await b.sync();
    const oldChunks = new Set((await describeFile(a.file('data.bin'))).chunks.map((c) => c.hash));

    a.write('data.bin', Buffer.concat([Buffer.from([0x2a]), original]));
    const changed = (await describeFile(a.file('data.bin'))).chunks.filter((c) => !oldChunks.has(c.hash));
    expect(changed.length).toBeLessThanOrEqual(2);
    const [bytesBefore, getsBefore, contentBefore] = [await fixture.server().bytesIn(), await fixture.server().requests('GET', '/v1/chunks/:hash'), await fixture.server().requests('GET', '/v1/files/:fileId/content')];
    await a.sync();
    expect((await fixture.server().bytesIn()) - bytesBefore).toBe(changed.reduce((sum, c) => sum + c.size, 0));
    await b.sync();
    expect((await fixture.server().requests('GET', '/v1/chunks/:hash')) - getsBefore).toBeLessThanOrEqual(2);
    expect((await fixture.server().requests('GET', '/v1/files/:fileId/content')) - contentBefore).toBe(0);
    expect(sha(b.file('data.bin'))).toBe(sha(a.file('data.bin')));
  });
});

describe('a large file edited', () => {
  const fixture = useServer(startServerProcess);
  const EDIT_MIB = 24;
  const sha256 = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

  /** The device's sync state, read with the engine (closed again). */
  const stateOf = async <T>(device: TestDevice, read: (engine: SyncEngine) => T | Promise<T>): Promise<T> => {
    const engine = await SyncEngine.open(device.dir, silentReporter, FAST);
    try {
      return await read(engine);
    } finally {
      await engine.close();
    }
  };
  const syncedFile = (engine: SyncEngine, rel: string) => {
    const entry = engine.ctx.state.synced.get(rel);
    if (entry?.kind !== 'file') throw new Error(`${rel} is not a synced file`);
    return entry;
  };

  it("sends its new chunks while the file is read: no upload_request and no PUT, only the chunks' bytes", async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    const original = noise(EDIT_MIB * MiB, 31);
    a.write('data.bin', original);
    await a.sync();
    await b.sync();
    const old = new Set((await describeFile(a.file('data.bin'))).chunks.map((c) => c.hash));
    a.write('data.bin', Buffer.concat([Buffer.from([0x2a]), original]));
    const fresh = (await describeFile(a.file('data.bin'))).chunks.filter((c) => !old.has(c.hash));
    const server = fixture.server();
    const count = () =>
      Promise.all([server.bytesIn(), server.requests('POST', '/v1/files/upload_request'), server.requests('PUT', '/v1/chunks/:hash'), server.requests('POST', '/v1/workspaces/:workspaceId/chunks')]);
    const before = await count();
    expect((await a.sync()).inSync).toBe(true);
    const after = await count();
    expect(after[0] - before[0]).toBe(fresh.reduce((sum, c) => sum + c.size, 0));
    expect([after[1] - before[1], after[2] - before[2], after[3] - before[3]]).toEqual([0, 0, fresh.length]);
    // A's chunks are its own cuts: the next describe may reuse them.
    expect(await stateOf(a, (e) => syncedFile(e, 'data.bin').localCuts)).toBe(true);
    await b.sync();
    expect(sha(b.file('data.bin'))).toBe(sha(a.file('data.bin')));
  });

  it('sends ahead no chunk the workspace already holds (a copy, a run killed and restarted)', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    const bytes = noise(6 * MiB, 38);
    a.write('data.bin', bytes);
    await a.sync();
    const [first] = (await describeFile(a.file('data.bin'))).chunks;
    if (first === undefined) throw new Error('no chunk');
    const server = fixture.server();
    const [bytesIn, posts] = [await server.bytesIn(), await server.requests('POST', '/v1/workspaces/:workspaceId/chunks')];
    // B has not synced: nothing here says the workspace holds the chunk; the server does.
    expect(
      await stateOf(b, (engine) => {
        uploadAhead(engine.ctx, first.hash, bytes.subarray(0, first.size));
        return engine.ctx.uploaded.get(first.hash);
      }),
    ).toBe(true);
    expect([(await server.bytesIn()) - bytesIn, (await server.requests('POST', '/v1/workspaces/:workspaceId/chunks')) - posts]).toEqual([0, 0]);
  });

  it('reuses only cut points this device found, never the boundaries of a version another client cut', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    const bytes = noise(EDIT_MIB * MiB, 32);
    // Committed through the API with FastCDC's first two chunks as one: a chunk that ends at a cut
    // point and hides another inside. Reused as a hint, its hash and its end would both check out.
    const cuts = cutPoints(bytes);
    expect(cuts[1]).toBeLessThanOrEqual(DEFAULT_CHUNKING.maxSize);
    const foreign = cuts.slice(1).map((end, k, rest) => {
      const start = k === 0 ? 0 : (rest[k - 1] as number);
      return { hash: sha256(bytes.subarray(start, end)), size: end - start, bytes: bytes.subarray(start, end) };
    });
    await stateOf(a, async (engine) => {
      const { api, config } = engine.ctx;
      const up = await api.uploadRequest(config.rootId, 'data.bin', bytes.length, foreign);
      for (const c of foreign) if (up.missing.includes(c.hash)) await api.putChunk(up.uploadUrls[c.hash] as string, c.bytes);
      const refs = foreign.map(({ hash, size }) => ({ hash, size }));
      await api.commit({ parentId: config.rootId, name: 'data.bin', fileId: null, baseVersionId: null, chunks: refs, size: bytes.length, modifiedAt: null, idempotencyKey: crypto.randomUUID() });
    });
    await b.sync();
    expect(await stateOf(b, (e) => syncedFile(e, 'data.bin').localCuts)).toBeUndefined();
    const edited = Buffer.from(b.read('data.bin'));
    edited.set(noise(4096, 33), 12 * MiB);
    b.write('data.bin', edited);
    expect((await b.sync()).inSync).toBe(true);
    const committed = await stateOf(b, (e) => syncedFile(e, 'data.bin'));
    expect(committed.chunks).toEqual((await describeFile(b.file('data.bin'))).chunks);
    expect(committed.localCuts).toBe(true);
  });

  it('is rebuilt from the local chunks that still check out; one that does not is fetched, never written', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    const original = noise(EDIT_MIB * MiB, 34);
    a.write('data.bin', original);
    await a.sync();
    await b.sync();
    // B's copy changes in a chunk far from the coming edit without its recorded stat moving (what a
    // scan cannot see): recorded here as if it had not.
    const chunks = (await describeFile(b.file('data.bin'))).chunks;
    const damaged = chunks[chunks.length - 2] as (typeof chunks)[number];
    const fd = fs.openSync(b.file('data.bin'), 'r+');
    fs.writeSync(fd, Buffer.from('not the bytes recorded'), 0, undefined, damaged.offset + 100);
    fs.closeSync(fd);
    const stat = fs.statSync(b.file('data.bin'));
    await stateOf(b, async (engine) => {
      engine.ctx.state.setSynced('data.bin', { ...syncedFile(engine, 'data.bin'), stat: { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino } });
      await engine.ctx.state.flush();
    });

    const edited = Buffer.from(original);
    edited.set(noise(4096, 35), 2 * MiB);
    a.write('data.bin', edited);
    const fresh = (await describeFile(a.file('data.bin'))).chunks.filter((c) => !chunks.some((d) => d.hash === c.hash));
    await a.sync();
    const gets = await fixture.server().requests('GET', '/v1/chunks/:hash');
    expect((await b.sync()).inSync).toBe(true);
    expect((await fixture.server().requests('GET', '/v1/chunks/:hash')) - gets).toBe(fresh.length + 1);
    expect(sha(b.file('data.bin'))).toBe(sha(a.file('data.bin')));
  });

  it('is described from the moment the scan meets it (when this device cut its chunks and no one is writing it), and once', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    const original = noise(EDIT_MIB * MiB, 39);
    a.write('data.bin', original);
    a.write('notes.txt', 'first');
    await a.sync();
    a.write('data.bin', Buffer.concat([Buffer.from([0x2a]), original]));
    a.write('notes.txt', 'second');
    const statNow = (rel: string) => statOf(fs.lstatSync(a.file(rel)));
    const data = statNow('data.bin');
    // Still being written (changed within stableMs): not yet. Small: left to the plan.
    const waiting = await SyncEngine.open(a.dir, silentReporter, { stableMs: 60_000 });
    try {
      describeEarly(waiting.ctx, 'data.bin', data, data.mtimeMs + 1000);
      describeEarly(waiting.ctx, 'notes.txt', statNow('notes.txt'), data.mtimeMs + 120_000);
      expect([...waiting.ctx.describing.keys()]).toEqual([]);
    } finally {
      await waiting.close();
    }
    const engine = await SyncEngine.open(a.dir, silentReporter, FAST);
    try {
      const asked: string[] = [];
      const { describer } = engine.ctx;
      const describe = describer.describe.bind(describer);
      describer.describe = (file, ...rest) => {
        asked.push(path.basename(file));
        return describe(file, ...rest);
      };
      describeEarly(engine.ctx, 'data.bin', data);
      expect([...engine.ctx.describing.keys()]).toEqual(['data.bin']);
      // The round's plan waits for that describe rather than starting its own.
      const round = await engine.round();
      expect([round.pushed, round.retry, round.unstable]).toEqual([2, 0, 0]);
      expect(asked).toEqual(['data.bin']);
      expect(engine.ctx.described.get('data.bin')?.chunks).toEqual((await describeFile(a.file('data.bin'))).chunks);
    } finally {
      await engine.close();
    }
    expect((await a.sync()).inSync).toBe(true);
    await b.sync();
    expect(sha(b.file('data.bin'))).toBe(sha(a.file('data.bin')));
  });

  it('lets go of the file it replaced once the new version is recorded', async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    a.write('data.bin', noise(EDIT_MIB * MiB, 36));
    await a.sync();
    await b.sync();
    a.write('data.bin', noise(EDIT_MIB * MiB, 37));
    await a.sync();
    await b.sync();
    expect(sha(b.file('data.bin'))).toBe(sha(a.file('data.bin')));
    // Held open across the rename (its blocks are not freed inside it), closed after the checkpoint.
    const heldOpen = () =>
      fs
        .readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((target) => target.startsWith(b.dir));
    for (let i = 0; i < 100 && heldOpen().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(heldOpen()).toEqual([]);
  });
});
