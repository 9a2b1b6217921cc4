import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHttp } from '../../src/client/api/http.js';
import { createSession } from '../../src/client/api/session.js';
import { createApi } from '../../src/client/api/v1.js';
import { describeFile } from '../../src/client/chunking/hashChunks.js';
import { layoutOf, readConfig } from '../../src/client/state/layout.js';
import { ClientState } from '../../src/client/state/store.js';
import { strata, until } from './support/cli.js';
import { MiB, noise, startServer, treeOf, useServer, type TestDevice } from './support/harness.js';

const sha = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Every FileVersionCommitted in the workspace's feed, as the server has it. */
const committedVersions = async (device: TestDevice) => {
  const layout = layoutOf(device.dir);
  const config = await readConfig(layout);
  if (config === null) throw new Error('no config');
  const api = createApi(createHttp(config.server, createSession(layout, config.server)), config.workspaceId);
  const events = [];
  for (let cursor = 0; ; ) {
    const page = await api.changes(cursor);
    events.push(...page.events);
    cursor = page.cursor;
    if (!page.hasMore) break;
  }
  return events.filter((e) => e.type === 'FileVersionCommitted');
};

/** Files in dir that are not complete copies of what they should be: partial downloads left behind. */
const strays = (dir: string) => Object.keys(treeOf(dir)).filter((p) => p.endsWith('.part') || p.includes('.strata-'));

describe('a client killed with SIGKILL and started again', () => {
  const fixture = useServer(startServer);
  const pair = async () => {
    const [a, b] = (await fixture.devicesOf('laptop', 'desktop')) as [TestDevice, TestDevice];
    return { a, b };
  };

  it('during an upload: re-sends no chunk the server verified, commits one version', async () => {
    const { a, b } = await pair();
    const size = 40 * MiB;
    a.write('big.bin', noise(size, 48));
    const start = await fixture.server().bytesIn();
    const run = strata(['sync', a.dir, '--once']);
    await until(async () => (await fixture.server().bytesIn()) - start >= 8 * MiB, 60_000, 5);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    // Bodies cut off by the kill are refused and not counted; let the server finish with them.
    await new Promise((r) => setTimeout(r, 300));
    const atKill = (await fixture.server().bytesIn()) - start;
    expect(atKill).toBeLessThan(size);

    const again = strata(['sync', a.dir, '--once']);
    expect((await again.exited).code).toBe(0);
    // Every chunk reached the server exactly once over both runs: the restart sent only what was missing.
    expect((await fixture.server().bytesIn()) - start).toBe(size);
    expect(await committedVersions(a)).toHaveLength(1);
    await b.sync();
    expect(sha(b.read('big.bin'))).toBe(sha(a.read('big.bin')));
  }, 120_000);

  it('during a download: leaves no partial file in the folder, and finishes on restart', async () => {
    const { a, b } = await pair();
    a.write('movie.bin', noise(40 * MiB, 64));
    a.write('small.txt', 'small');
    await a.sync();
    const tmp = path.join(b.dir, '.strata', 'tmp');
    const run = strata(['sync', b.dir, '--once']);
    await until(() => fs.existsSync(tmp) && fs.readdirSync(tmp).some((n) => fs.statSync(path.join(tmp, n)).size > 4 * MiB), 60_000, 5);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(fs.existsSync(b.file('movie.bin'))).toBe(false);
    expect(strays(b.dir)).toEqual([]);
    const again = strata(['sync', b.dir, '--once']);
    expect((await again.exited).code).toBe(0);
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 120_000);

  it('at any moment of a sync: converges without a duplicate version or a chunk sent twice', async () => {
    const { a, b } = await pair();
    a.write('one.bin', noise(24 * MiB, 1));
    for (let i = 0; i < 30; i++) a.write(`small/s${i}.txt`, `small file ${i}`);
    const distinct = new Set<string>();
    let bytes = 0;
    for (const rel of Object.keys(treeOf(a.dir)))
      if (!rel.endsWith('small') && fs.statSync(a.file(rel)).isFile())
        for (const c of (await describeFile(a.file(rel))).chunks)
          if (!distinct.has(c.hash)) {
            distinct.add(c.hash);
            bytes += c.size;
          }
    const start = await fixture.server().bytesIn();
    for (const delayMs of [1200, 1700, 2300]) {
      const run = strata(['sync', a.dir, '--once']);
      await new Promise((r) => setTimeout(r, delayMs));
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const last = strata(['sync', a.dir, '--once']);
    expect((await last.exited).code).toBe(0);
    expect((await fixture.server().bytesIn()) - start).toBe(bytes);
    const versions = await committedVersions(a);
    expect(versions).toHaveLength(31);
    expect(new Set(versions.map((v) => v.nodeId)).size).toBe(31);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  }, 120_000);

  it('during a batched upload of many small files: resumes them, commits each file once', async () => {
    const { a, b } = await pair();
    const files = 2500;
    for (let i = 0; i < files; i++) a.write(`many/d${i % 10}/f${i}.txt`, noise(1 + (i % 2048), 1000 + i));
    const batches = await fixture.server().requests('POST', '/v1/files/commit_batch');
    const run = strata(['sync', a.dir, '--once']);
    // Killed as the first batch is committed: the others (500 files each) are on their way.
    await until(async () => (await fixture.server().requests('POST', '/v1/files/commit_batch')) > batches, 120_000, 2);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    const atKill = (await committedVersions(a)).length;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(files);
    // The batches under way were written down, keys and all, before they were sent.
    const state = await ClientState.open(layoutOf(a.dir).journalDir, { readOnly: true });
    expect(state.pending.size).toBeGreaterThan(0);

    const again = strata(['sync', a.dir, '--once']);
    expect((await again.exited).code).toBe(0);
    const versions = await committedVersions(a);
    expect(versions).toHaveLength(files);
    expect(new Set(versions.map((v) => v.nodeId)).size).toBe(files);
    expect((await b.sync({}, undefined, 30_000)).inSync).toBe(true);
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  }, 180_000);
});
