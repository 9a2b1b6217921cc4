import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import { hashPassword } from '../src/gateway/accounts/passwords.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';
import { benchDatabase, fmt, machine, percentile } from './support.js';

interface Setup {
  /** Per user: the device that commits and the sockets of the others, with its workspace. */
  readonly users: Array<{ workspaceId: string; rootId: string; writerToken: string; sockets: Socket[] }>;
  readonly sockets: Socket[];
}

const PASSWORD = 'bench password, not a secret';
const json = async (res: Response) => (await res.json()) as Record<string, string>;

/** Signs users up, makes their passwords cheap to verify (the bench measures pushes, not scrypt), logs devices in. */
const strataAccounts = async (server: ServerProcess, databaseUrl: string, users: number, devicesPerUser: number): Promise<Setup> => {
  const emails = Array.from({ length: users }, (_, i) => `bench${i}-${Date.now()}@example.com`);
  for (let i = 0; i < emails.length; i += 4)
    await Promise.all(
      emails.slice(i, i + 4).map((email) =>
        fetch(`${server.url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) }),
      ),
    );
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('UPDATE users SET password_hash = $1', [await hashPassword(PASSWORD, { logN: 10, r: 8, p: 1 })]);
  await db.end();
  const setup: Setup = { users: [], sockets: [] };
  for (const email of emails) {
    const logins = await Promise.all(
      Array.from({ length: devicesPerUser }, (_, d) =>
        fetch(`${server.url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: PASSWORD, deviceName: `d${d}` }),
        }).then(json),
      ),
    );
    const [writer, ...readers] = logins as [Record<string, string>, ...Array<Record<string, string>>];
    const ws = await json(await fetch(`${server.url}/v1/workspaces/${writer.workspaceId}`, { headers: { authorization: `Bearer ${writer.accessToken}` } }));
    const sockets = readers.map((r) => io(`${server.url}/v1/sync`, { auth: { token: r.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true }));
    setup.users.push({ workspaceId: writer.workspaceId as string, rootId: ws.rootId as string, writerToken: writer.accessToken as string, sockets });
    setup.sockets.push(...sockets);
  }
  await Promise.all(setup.sockets.map((s) => new Promise<void>((resolve, reject) => (s.connected ? resolve() : (s.once('connect', () => resolve()), s.once('connect_error', reject))))));
  return setup;
};

const baselineAccounts = async (server: ServerProcess, users: number, devicesPerUser: number): Promise<Setup> => {
  const setup: Setup = { users: [], sockets: [] };
  for (let u = 0; u < users; u++) {
    const room = `room${u}`;
    const sockets = Array.from({ length: devicesPerUser - 1 }, () => io(`${server.url}/v1/sync`, { auth: { token: room }, transports: ['websocket'], reconnection: false, forceNew: true }));
    setup.users.push({ workspaceId: room, rootId: '', writerToken: '', sockets });
    setup.sockets.push(...sockets);
  }
  await Promise.all(setup.sockets.map((s) => new Promise<void>((resolve) => (s.connected ? resolve() : s.once('connect', () => resolve())))));
  return setup;
};

/**
 * Commits at `rate` per second for `seconds`, round robin over the users; for every commit, the
 * time from its HTTP response to the push reaching each other device of the workspace.
 * Negative: the push arrived before the response (the server emits right after the commit).
 */
const measure = async (setup: Setup, rate: number, seconds: number, commit: (user: Setup['users'][number], i: number, cursor: number) => Promise<void>) => {
  const arrivals = new Map<string, number[]>();
  setup.users.forEach((u) =>
    u.sockets.forEach((s) =>
      s.on('changes', (p: { workspaceId: string; cursor: number }) => {
        const key = `${p.workspaceId}@${p.cursor}`;
        const list = arrivals.get(key) ?? [];
        list.push(performance.now());
        arrivals.set(key, list);
      }),
    ),
  );
  const responses = new Map<string, number>();
  const cursors = new Map<string, number>(setup.users.map((u) => [u.workspaceId, 1]));
  const total = rate * seconds;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const user = setup.users[i % setup.users.length] as Setup['users'][number];
    const cursor = (cursors.get(user.workspaceId) ?? 1) + 1;
    cursors.set(user.workspaceId, cursor);
    inflight.push(commit(user, i, cursor).then(() => void responses.set(`${user.workspaceId}@${cursor}`, performance.now())));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  // Late pushes still count: give them a second before reading the clock marks.
  await new Promise((r) => setTimeout(r, 1000));
  const latencies: number[] = [];
  let missing = 0;
  for (const [key, respondedAt] of responses) {
    const got = arrivals.get(key) ?? [];
    const expected = setup.users[0]?.sockets.length ?? 0;
    missing += Math.max(0, expected - got.length);
    for (const t of got) latencies.push(t - respondedAt);
  }
  latencies.sort((a, b) => a - b);
  return { commits: responses.size, perSecond: responses.size / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), pushes: latencies.length, missing };
};

/** Time from a commit's response to the `changes` push at the workspace's other devices, with 1,000 sockets. */
export const benchPropagation = async (): Promise<void> => {
  const users = Number(process.env.BENCH_USERS ?? 100);
  const devices = Number(process.env.BENCH_DEVICES_PER_USER ?? 11);
  const rate = Number(process.env.BENCH_RATE ?? 100);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const db = await benchDatabase();
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const strata = await startServerProcess({
    env: { DATABASE_URL: db.url, REDIS_URL: redisUrl, STRATA_RATE_LIMITS: 'device=1000000,workspace=1000000,address=1000000' },
  });
  const baseline = await startServerProcess({ env: {}, script: 'bench/socketBaseline.ts' });
  try {
    const s = await strataAccounts(strata, db.url, users, devices);
    const strataResult = await measure(s, rate, seconds, async (user, i) => {
      const res = await fetch(`${strata.url}/v1/folders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.writerToken}` },
        body: JSON.stringify({ workspaceId: user.workspaceId, parentId: user.rootId, name: `f${i}` }),
      });
      if (res.status !== 201) throw new Error(`commit refused: ${res.status} ${await res.text()}`);
    });
    s.sockets.forEach((x) => x.close());
    const b = await baselineAccounts(baseline, users, devices);
    const baselineResult = await measure(b, rate, seconds, async (user, _i, cursor) => {
      const res = await fetch(`${baseline.url}/emit/${user.workspaceId}`, { method: 'POST', headers: { 'x-cursor': String(cursor) } });
      await res.arrayBuffer();
    });
    b.sockets.forEach((x) => x.close());
    console.log(`\npropagation: ${users * (devices - 1)} sockets, ${rate} commits/s for ${seconds}s, Redis adapter on; ${machine()}, ${new Date().toISOString()}`);
    console.log('| server | commits | commits/s | pushes | missing | p50 ms after response | p99 ms after response |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, r] of [['bare socket.io (baseline)', baselineResult], ['strata', strataResult]] as const)
      console.log(`| ${name} | ${r.commits} | ${fmt(r.perSecond, 0)} | ${r.pushes} | ${r.missing} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} |`);
  } finally {
    await strata.stop();
    await baseline.stop();
    await db.drop();
  }
};
