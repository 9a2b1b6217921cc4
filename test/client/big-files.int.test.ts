import crypto from 'node:crypto';
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFile } from '../../src/client/chunking/hashChunks.js';
import { MiB, noise, startServerProcess, useServer, type TestDevice } from './support/harness.js';

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
