import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { login, signup } from '../src/client/account.js';
import { createHttp } from '../src/client/api/http.js';
import { createSession } from '../src/client/api/session.js';
import { createApi } from '../src/client/api/v1.js';
import { contentHash, describeFile } from '../src/client/chunking/hashChunks.js';
import { layoutOf } from '../src/client/state/layout.js';
import { silentReporter } from '../src/client/sync/context.js';
import { SyncEngine } from '../src/client/sync/engine.js';
import { forEachLimit } from '../src/concurrency/limit.js';
import { freePort, startServerProcess } from './serverProcess.js';
import { benchDatabase, fmt, machine, percentile } from './support.js';

const PASSWORD = 'correct horse battery staple';
const MiB = 1024 * 1024;

const metric = async (url: string, name: string, match = ''): Promise<number> =>
  (await (await fetch(`${url}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(match))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

const syncFolder = async (dir: string): Promise<number> => {
  const started = performance.now();
  const engine = await SyncEngine.open(dir, silentReporter, { stableMs: 0 });
  try {
    const result = await engine.syncUntilQuiet(60_000, 1000);
    if (!result.inSync) throw new Error(`${dir} did not reach a synced state`);
  } finally {
    await engine.close();
  }
  return (performance.now() - started) / 1000;
};

/** rsync in daemon mode on loopback, with a module on a temp folder. */
const startRsyncd = async (root: string): Promise<{ module: string; stop: () => void }> => {
  const port = await freePort();
  const store = path.join(root, 'rsync-server');
  fs.mkdirSync(store, { recursive: true });
  const conf = path.join(root, 'rsyncd.conf');
  fs.writeFileSync(
    conf,
    [`port = ${port}`, 'address = 127.0.0.1', 'use chroot = false', `pid file = ${path.join(root, 'rsyncd.pid')}`, `uid = ${process.getuid?.() ?? 0}`, `gid = ${process.getgid?.() ?? 0}`,
      '[bench]', `path = ${store}`, 'read only = false', ''].join('\n'),
  );
  const child = spawn('/usr/bin/rsync', ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { module: `rsync://127.0.0.1:${port}/bench`, stop: () => void child.kill('SIGTERM') };
};

/** One rsync run: seconds and the bytes it reports sent plus received over the wire. */
const rsync = (args: readonly string[]): { seconds: number; bytes: number } => {
  const started = performance.now();
  const run = spawnSync('/usr/bin/rsync', ['-a', '--stats', '--fsync', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`rsync ${args.join(' ')} failed: ${run.stderr}`);
  const sent = Number(/Total bytes sent: ([\d,]+)/.exec(run.stdout)?.[1]?.replace(/,/g, '') ?? NaN);
  const received = Number(/Total bytes received: ([\d,]+)/.exec(run.stdout)?.[1]?.replace(/,/g, '') ?? NaN);
  return { seconds: (performance.now() - started) / 1000, bytes: sent + received };
};

const writeTree = (dir: string, files: number): number => {
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `d${i % 100}`);
    if (i < 100) fs.mkdirSync(sub, { recursive: true });
    const size = 1024 + ((i * 7919) % (15 * 1024 + 1));
    fs.writeFileSync(path.join(sub, `f${i}.bin`), crypto.randomBytes(size));
    bytes += size;
  }
  return bytes;
};

/** Flushes what the bench wrote, so neither tool's first fsync waits for it. */
const flushAll = (): void => void spawnSync('sync');

/**
 * Commits/s one workspace takes through the API when no byte has to move: one at a time (6 in
 * flight), the ceiling of a file-per-commit sync, and by commit_batch (500 a request, 2 in flight),
 * the ceiling of the batched one.
 */
const commitCeilings = async (url: string, dir: string, n: number): Promise<{ single: number; batched: number }> => {
  const layout = layoutOf(dir);
  const config = JSON.parse(fs.readFileSync(layout.config, 'utf8')) as { workspaceId: string; rootId: string };
  const api = createApi(createHttp(url, createSession(layout, url)), config.workspaceId);
  const bytes = crypto.randomBytes(1024);
  const chunks = [{ hash: crypto.createHash('sha256').update(bytes).digest('hex'), size: bytes.length }];
  const up = await api.uploadRequest(config.rootId, 'ceiling', bytes.length, chunks);
  for (const url2 of Object.values(up.uploadUrls)) await api.putChunk(url2, bytes);
  const commitOf = (parentId: string, i: number) => ({ parentId, name: `c${i}`, fileId: null, baseVersionId: null, chunks, size: bytes.length, modifiedAt: null, idempotencyKey: crypto.randomUUID() });
  const single = await api.createFolder(config.rootId, 'commit-ceiling');
  let started = performance.now();
  await forEachLimit([...Array(n).keys()], 6, async (i) => void (await api.commit(commitOf(single.nodeId, i))));
  const singleRate = n / ((performance.now() - started) / 1000);
  const batched = await api.createFolder(config.rootId, 'commit-batch-ceiling');
  const batches = [...Array(10).keys()].map((b) => [...Array(500).keys()].map((i) => commitOf(batched.nodeId, b * 500 + i)));
  started = performance.now();
  await forEachLimit(batches, 2, async (batch) => {
    const answer = await api.commitBatch(batch);
    if (answer.results.some((r) => r.status !== 201)) throw new Error('a commit of the batch ceiling was refused');
  });
  return { single: singleRate, batched: 5000 / ((performance.now() - started) / 1000) };
};

/** Requests the server answered so far, all routes. */
const requestCount = (url: string) => metric(url, 'strata_http_requests_total{');

const loadAverage = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

/** Epoch milliseconds with the sub-millisecond precision of performance.now(), comparable between processes. */
const clock = (): number => performance.timeOrigin + performance.now();

type ToDevice =
  | { readonly expect: { readonly path: string; readonly contentHash: string } }
  | { readonly expectFiles: { readonly under: string; readonly count: number } }
  | { readonly stop: true };
type FromDevice = { readonly ready: true } | { readonly synced: { readonly at: number } } | { readonly error: string };

/**
 * Device B of the delta, run as `strata sync DIR` runs (watching: socket push, then pull and
 * rebuild), in a process of its own (this file run with `watch DIR`). Told which version to
 * expect, it answers the moment a round has it in place, fsynced and recorded in the journal (a
 * round ends with that checkpoint).
 */
const watchDevice = async (dir: string): Promise<void> => {
  const stop = new AbortController();
  const engine = await SyncEngine.open(dir, silentReporter, { stableMs: 0 }, stop.signal);
  const send = (m: FromDevice) => void process.send?.(m);
  let expected: { readonly path: string; readonly contentHash: string } | null = null;
  let expectedFiles: { readonly under: string; readonly count: number } | null = null;
  let ready = false;
  const filesUnder = (under: string): number => {
    let n = 0;
    for (const [p, entry] of engine.ctx.state.synced) if (entry.kind === 'file' && p.startsWith(`${under}/`)) n++;
    return n;
  };
  const check = () => {
    if (expectedFiles !== null && filesUnder(expectedFiles.under) >= expectedFiles.count) {
      expectedFiles = null;
      send({ synced: { at: clock() } });
    }
    const there = expected === null ? undefined : engine.ctx.state.synced.get(expected.path);
    if (there?.kind !== 'file' || there.contentHash !== expected?.contentHash) return;
    expected = null;
    send({ synced: { at: clock() } });
  };
  process.on('message', (m: ToDevice) => {
    if ('stop' in m) stop.abort();
    else if ('expectFiles' in m) {
      expectedFiles = m.expectFiles;
      check();
    } else {
      expected = m.expect;
      check();
    }
  });
  try {
    await engine.watch(() => {
      if (!ready) {
        ready = true;
        send({ ready: true });
      }
      check();
    });
  } finally {
    await engine.close();
    process.disconnect?.();
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'watch' && process.argv[3] !== undefined)
  watchDevice(process.argv[3]).catch((e: unknown) => {
    process.send?.({ error: String(e) } satisfies FromDevice);
    process.exitCode = 1;
  });

/** The next message from a device process that pick accepts; rejects on its error or exit. */
const fromDevice = <T>(child: ChildProcess, pick: (m: FromDevice) => T | undefined, timeoutMs = 120_000): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(() => reject(new Error('device B did not answer in time'))), timeoutMs);
    const onMessage = (m: FromDevice) => {
      if ('error' in m) return done(() => reject(new Error(`device B failed: ${m.error}`)));
      const picked = pick(m);
      if (picked !== undefined) done(() => resolve(picked));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`device B exited (${code})`)));
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });

/**
 * The sync client end to end against a real server process: (1) the initial sync of many small
 * files from device A through the server to device B (the batch calls of docs/api-extensions.md); (2) a 1-byte insertion at offset 0 and a
 * 4 KiB overwrite in the middle of a 100 MiB file, each BENCH_CLIENT_DELTA_REPEATS (3) times. rsync (daemon on loopback, --fsync like Strata)
 * on the same files in the same run is the baseline.
 */
export const benchClient = async (): Promise<void> => {
  const files = Number(process.env.BENCH_CLIENT_FILES ?? 10_000);
  const deltaMiB = Number(process.env.BENCH_CLIENT_DELTA_MIB ?? 100);
  const deltaRepeats = Number(process.env.BENCH_CLIENT_DELTA_REPEATS ?? 3);
  const db = await benchDatabase();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-client-'));
  fs.chmodSync(work, 0o755);
  // A real server process on its own database, rate limits out of the way: this measures the sync, not the limits.
  const server = await startServerProcess({ env: { DATABASE_URL: db.url, STRATA_RATE_LIMITS: 'device=10000000,workspace=10000000,address=10000000' } });
  const rsyncd = await startRsyncd(work);
  const lines: string[] = [];
  const loads: string[] = [loadAverage()];
  let deviceB: ChildProcess | null = null;
  try {
    const email = `bench${crypto.randomBytes(4).toString('hex')}@example.com`;
    await signup(server.url, email, PASSWORD);
    const device = async (name: string) => {
      const dir = path.join(work, name);
      await login({ server: server.url, email, password: PASSWORD, deviceName: name, dir });
      return dir;
    };
    const [a, b] = [await device('a'), await device('b')];

    // (1) Many small files.
    const bytes = writeTree(a, files);
    flushAll();
    const requestsBefore = await requestCount(server.url);
    const up = await syncFolder(a);
    const requestsUp = await requestCount(server.url);
    const down = await syncFolder(b);
    const requestsDown = await requestCount(server.url);
    loads.push(loadAverage());
    const rsA = path.join(work, 'rsync-a');
    const rsB = path.join(work, 'rsync-b');
    fs.mkdirSync(rsA);
    fs.mkdirSync(rsB);
    for (const d of fs.readdirSync(a)) if (d !== '.strata') fs.cpSync(path.join(a, d), path.join(rsA, d), { recursive: true });
    const rsUp = rsync([`${rsA}/`, `${rsyncd.module}/tree/`]);
    const rsDown = rsync([`${rsyncd.module}/tree/`, `${rsB}/`]);
    const ceiling = await commitCeilings(server.url, a, 500);

    const strataRate = files / (up + down);
    const rsyncRate = files / (rsUp.seconds + rsDown.seconds);
    lines.push(
      `### Initial sync: ${files} files of 1 to 16 KiB (${fmt(bytes / MiB)} MiB), device A -> server -> device B`,
      '',
      '| | A: scan, hash, upload, commit | B: pull, download, write | end to end | files/s end to end | ratio to rsync |',
      '|---|---|---|---|---|---|',
      `| strata | ${fmt(up)} s (${fmt(files / up, 0)} files/s, ${requestsUp - requestsBefore} requests) | ${fmt(down)} s (${fmt(files / down, 0)} files/s, ${requestsDown - requestsUp} requests) | ${fmt(up + down)} s | ${fmt(strataRate, 0)} | ${fmt(strataRate / rsyncRate, 2)} |`,
      `| rsync --fsync (daemon, loopback) | ${fmt(rsUp.seconds)} s | ${fmt(rsDown.seconds)} s | ${fmt(rsUp.seconds + rsDown.seconds)} s | ${fmt(rsyncRate, 0)} | 1.00 |`,
      '',
      `Server ceilings in the same run, one workspace, an already-held chunk (no byte moved): ${fmt(ceiling.single, 0)} commits/s one at a time (500 commits, 6 in flight), ${fmt(ceiling.batched, 0)} commits/s by commit_batch (10 batches of 500, 2 in flight).`,
      '',
    );

    // (2) Delta on a large file.
    const big = crypto.randomBytes(deltaMiB * MiB);
    fs.writeFileSync(path.join(a, 'big.bin'), big);
    fs.writeFileSync(path.join(rsA, 'big.bin'), big);
    await syncFolder(a);
    await syncFolder(b);
    rsync([`${rsA}/big.bin`, `${rsyncd.module}/tree/big.bin`]);
    rsync([`${rsyncd.module}/tree/big.bin`, `${rsB}/big.bin`]);
    const edits: Array<[string, (data: Buffer) => Buffer]> = [
      ['1-byte insert at offset 0', (data) => Buffer.concat([Buffer.from([0x2a]), data])],
      ['4 KiB overwrite in the middle', (data) => {
        const out = Buffer.from(data);
        crypto.randomBytes(4096).copy(out, Math.floor(out.length / 2));
        return out;
      }],
    ];
    lines.push(
      `### Delta: one edit to a ${deltaMiB} MiB file, synced A -> server -> B`,
      '',
      `Each edit ${deltaRepeats} times, the kinds in turn; medians, then each run's figure in brackets, in order.`,
      '',
      '| edit | strata time (A edit to B in place) | strata bytes up | strata chunks up / fetched | rsync --fsync time (push + pull) | rsync bytes (both legs) | time ratio to rsync (of the medians; each run) |',
      '|---|---|---|---|---|---|---|',
    );
    // Running clients, as `strata sync DIR` is: A syncs the edit, B watches (socket push). The time
    // is from A's start to the moment B has the new version in place, fsynced and recorded in its
    // journal. B runs in a process of its own, as on another device: in this one it would share
    // A's event loop, and A's round after its commit (pull, rescan) would hold up B's rebuild. A
    // one-shot run's fixed cost is measured apart below.
    const engineA = await SyncEngine.open(a, silentReporter, { stableMs: 0 });
    deviceB = fork(fileURLToPath(import.meta.url), ['watch', b], { cwd: path.resolve(import.meta.dirname, '..'), execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const childB = deviceB;
    await fromDevice(childB, (m) => ('ready' in m ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    const propagate = async (expected: string): Promise<number> => {
      const synced = fromDevice(childB, (m) => ('synced' in m ? m.synced.at : undefined));
      childB.send({ expect: { path: 'big.bin', contentHash: expected } } satisfies ToDevice);
      const started = clock();
      const syncingA = engineA.syncUntilQuiet(60_000);
      const seconds = ((await synced) - started) / 1000;
      if (!(await syncingA).inSync) throw new Error('A not in sync');
      return seconds;
    };
    let current: Buffer = big;
    // One edit is a fraction of a second on a shared two-core machine: each kind is measured a few
    // times, both tools alike, and compared by medians.
    const samples = new Map(edits.map(([label]) => [label, [] as { strata: number; sent: number; chunks: string; rsync: number; rsyncBytes: number }[]]));
    for (let round = 0; round < deltaRepeats; round++)
      for (const [label, edit] of edits) {
        const before = new Map((await describeFile(path.join(a, 'big.bin'))).chunks.map((c) => [c.hash, c.size]));
        current = edit(current);
        fs.writeFileSync(path.join(a, 'big.bin'), current);
        fs.writeFileSync(path.join(rsA, 'big.bin'), current);
        // The edit is on disk before either tool starts: otherwise the first fsync of the run (Strata's,
        // which goes first) waits for the 200 MiB the bench just wrote (both copies) to reach the disk,
        // and rsync, timed after, finds them written.
        for (const dir of [a, rsA]) {
          const fd = fs.openSync(path.join(dir, 'big.bin'), 'r');
          fs.fsyncSync(fd);
          fs.closeSync(fd);
        }
        const described = (await describeFile(path.join(a, 'big.bin'))).chunks;
        const newChunks = described.filter((c) => !before.has(c.hash));
        const [inBefore, getsBefore] = [await metric(server.url, 'strata_bytes_in_total'), await metric(server.url, 'strata_http_requests_total{', 'route="/v1/chunks/:hash"') - (await metric(server.url, 'strata_http_requests_total{', 'method="PUT",route="/v1/chunks/:hash"'))];
        const strata = await propagate(contentHash(described));
        const sent = (await metric(server.url, 'strata_bytes_in_total')) - inBefore;
        const gets = (await metric(server.url, 'strata_http_requests_total{', 'route="/v1/chunks/:hash"')) - (await metric(server.url, 'strata_http_requests_total{', 'method="PUT",route="/v1/chunks/:hash"')) - getsBefore;
        const push = rsync([`${rsA}/big.bin`, `${rsyncd.module}/tree/big.bin`]);
        const pull = rsync([`${rsyncd.module}/tree/big.bin`, `${rsB}/big.bin`]);
        samples.get(label)?.push({ strata, sent, chunks: `${newChunks.length} / ${gets}`, rsync: push.seconds + pull.seconds, rsyncBytes: push.bytes + pull.bytes });
      }
    const median = (values: readonly number[]) => percentile([...values].sort((x, y) => x - y), 50);
    for (const [label, runs] of samples) {
      const [strata, rsyncTimes] = [median(runs.map((r) => r.strata)), median(runs.map((r) => r.rsync))];
      const each = (values: readonly number[], digits: number) => values.map((v) => fmt(v, digits)).join(', ');
      lines.push(
        `| ${label} | ${fmt(strata, 2)} s (${each(runs.map((r) => r.strata), 2)}) | ${fmt(median(runs.map((r) => r.sent)) / 1024, 0)} KiB | ${runs.map((r) => r.chunks).join(', ')} | ${fmt(rsyncTimes, 2)} s (${each(runs.map((r) => r.rsync), 2)}) | ${fmt(median(runs.map((r) => r.rsyncBytes)) / 1024, 0)} KiB | ${fmt(strata / rsyncTimes, 2)} (${each(runs.map((r) => r.strata / r.rsync), 2)}) |`,
      );
    }
    await engineA.close();
    const exited = new Promise((r) => childB.once('exit', r));
    childB.send({ stop: true } satisfies ToDevice);
    await exited;
    deviceB = null;
    const oneShot = await syncFolder(a);
    lines.push(
      '',
      `A one-shot run (\`strata sync DIR --once\`) adds a fixed cost for this folder of ${files + 1} files: ${fmt(oneShot, 2)} s to open its state, find nothing to do and close.`,
    );

    // (3) The initial sync again (other files, under run2/), both devices running as two `strata sync DIR`
    // do: B, in a process of its own, watches (socket push, pull, download) while A syncs; the time
    // is from A's start to the moment B has every file in place, fsynced and in its journal.
    writeTree(path.join(a, 'run2'), files);
    flushAll();
    deviceB = fork(fileURLToPath(import.meta.url), ['watch', b], { cwd: path.resolve(import.meta.dirname, '..'), execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const watcherB = deviceB;
    await fromDevice(watcherB, (m) => ('ready' in m ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    const allThere = fromDevice(watcherB, (m) => ('synced' in m ? m.synced.at : undefined), 300_000);
    watcherB.send({ expectFiles: { under: 'run2', count: files } } satisfies ToDevice);
    const runningStarted = clock();
    const runningUp = await syncFolder(a);
    const running = ((await allThere) - runningStarted) / 1000;
    const watcherExited = new Promise((r) => watcherB.once('exit', r));
    watcherB.send({ stop: true } satisfies ToDevice);
    await watcherExited;
    deviceB = null;

    lines.push(
      '',
      `### Initial sync with both devices running: ${files} other files of 1 to 16 KiB, A -> server -> B`,
      '',
      `B runs as \`strata sync DIR\` (watching, in its own process) while A syncs; the time is from A's start to the moment B has every file in place, fsynced and in its journal. A alone: ${fmt(runningUp)} s; end to end: ${fmt(running)} s, ${fmt(files / running, 0)} files/s (the two legs one after the other above: ${fmt(up + down)} s, ${fmt(strataRate, 0)} files/s).`,
    );
    loads.push(loadAverage());
  } finally {
    deviceB?.kill('SIGTERM');
    rsyncd.stop();
    await server.stop();
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nclient: ${machine()}, ${new Date().toISOString()}, load average (1/5/15 min) at start, after (1), at end: ${loads.join(' | ')}\n`);
  for (const line of lines) console.log(line);
};
