import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import pino from 'pino';
import { createCommandHandler } from '../src/commands/handle.js';
import { createPostgresWorkspaceStore } from '../src/commands/postgres/workspaceStore.js';
import type { ChunkHash, IsoTimestamp, NodeId, NonNegativeInt, UserId, VersionId, WorkspaceId } from '../src/domain/ids.js';
import { EVENT_SCHEMA_VERSION, type WorkspaceEvent } from '../src/domain/workspace/events.js';
import { accessTokenKey, signAccessToken } from '../src/gateway/accounts/tokens.js';
import { startGateway } from '../src/gateway/compose.js';
import type { AuthContext } from '../src/gateway/http/auth.js';
import { applyTreeEvent } from '../src/projections/tree/apply.js';
import { blobStoreFromEnv } from '../src/storage/blobs/fromEnv.js';
import { appendInTransaction } from '../src/storage/eventlog/postgres/append.js';
import type { NewEvent } from '../src/storage/eventlog/types.js';
import { workspaceStreamId } from '../src/storage/eventlog/workspaceSchema.js';
import { migrate } from '../src/storage/postgres/migrate.js';
import { createPool } from '../src/storage/postgres/pool.js';
import { inTransaction } from '../src/storage/postgres/transaction.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';
import { benchDatabase, fmt, machine, percentile } from './support.js';

/**
 * The morning burst (issue #6): a workspace with BENCH_EVENTS events (default 100,000), then
 * BENCH_DEVICES devices (default 1,000) at once each pull everything from cursor 0 in pages of
 * BENCH_PAGE (default 1,000) over real HTTP, against a Strata node in its own process: once with
 * the changes cache, once without it (the baseline, every page read from Postgres). A run stops at
 * BENCH_SECONDS (cached, default 600) or BENCH_BASELINE_SECONDS (uncached, default 30): rates are
 * over the time actually run.
 */

const SAMPLED_DEVICES = 3;
const PAGE_TAIL = /"cursor":(\d+),"hasMore":(true|false)\}$/;

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex') as ChunkHash;

/** A valid stream: the workspace, then a folder and nine new files in it, over and over. */
const seedWorkspace = async (pool: pg.Pool, events: number) => {
  const workspaceId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  const rootId = crypto.randomUUID();
  const handle = createCommandHandler({ store: createPostgresWorkspaceStore(pool), newEventId: () => crypto.randomUUID() });
  const created = await handle({
    type: 'CreateWorkspace',
    workspaceId: workspaceId as WorkspaceId,
    data: { rootId: rootId as NodeId, ownerId: userId as UserId, quotaBytes: 1024 ** 4 as NonNegativeInt },
    metadata: { now: new Date().toISOString() as IsoTimestamp, userId: userId as UserId, deviceId: null },
  });
  if (E.isLeft(created)) throw new Error(created.left.message);
  await pool.query('INSERT INTO users (user_id, email, password_hash, workspace_id, created_at) VALUES ($1, $2, $3, $4, now())', [userId, `burst-${userId}@example.com`, 'x', workspaceId]);
  const streamId = workspaceStreamId(workspaceId);
  let version = 1;
  let folder = rootId;
  const next = (i: number): WorkspaceEvent => {
    if (i % 10 === 0) {
      folder = crypto.randomUUID();
      return { type: 'FolderCreated', data: { nodeId: folder as NodeId, parentId: rootId as NodeId, name: `folder ${i / 10}` } };
    }
    const chunk = { hash: sha(`${workspaceId}:${i}`), size: (4096 + (i % 97)) as NonNegativeInt };
    return {
      type: 'FileVersionCommitted',
      data: {
        nodeId: crypto.randomUUID() as NodeId, parentId: folder as NodeId, name: `report ${i}.pdf`, versionId: crypto.randomUUID() as VersionId,
        size: chunk.size, contentHash: sha(chunk.hash), chunks: [chunk], modifiedAt: new Date().toISOString() as IsoTimestamp, baseVersionId: null, created: true,
      },
    };
  };
  const started = performance.now();
  for (let i = 0; version < events; ) {
    const batch: NewEvent<WorkspaceEvent>[] = [];
    for (; batch.length < 2000 && version + batch.length < events; i++) {
      const event = next(i);
      batch.push({
        eventId: crypto.randomUUID(),
        event,
        schemaVersion: EVENT_SCHEMA_VERSION[event.type],
        metadata: { at: new Date().toISOString() as IsoTimestamp, userId: userId as UserId, deviceId: null, correlationId: 'burst-seed', causationId: null },
      });
    }
    const expected = version;
    await inTransaction(pool, async (client) => {
      const stored = await appendInTransaction(client, streamId, expected, batch);
      for (const e of stored) await applyTreeEvent(client, 'rm', e);
    });
    version += batch.length;
  }
  return { workspaceId, userId, seedSeconds: (performance.now() - started) / 1000 };
};

/** Devices of the workspace's user, straight into the table, with their access tokens (no scrypt, no login). */
const seedDevices = async (pool: pg.Pool, secret: Buffer, workspace: { workspaceId: string; userId: string }, count: number) => {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  await pool.query(
    `INSERT INTO devices (device_id, user_id, workspace_id, name, created_at, last_seen_at)
     SELECT d, $2, $3, 'laptop ' || n, now(), now() FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n)`,
    [ids, workspace.userId, workspace.workspaceId],
  );
  const key = accessTokenKey(secret);
  return ids.map((deviceId) => signAccessToken(key, { userId: workspace.userId, workspaceId: workspace.workspaceId, deviceId } as AuthContext, new Date(), 900));
};

interface PageAnswer {
  readonly status: number;
  readonly encoding: string;
  readonly bytes: number;
  /** The last bytes of the body (where cursor and hasMore are), or the whole body when asked. */
  readonly body: Buffer;
}

/** One GET on a keep-alive connection; only the end of the body is kept unless whole is asked. */
const getPage = (agent: http.Agent, url: URL, token: string, whole: boolean, acceptEncoding: Encoding): Promise<PageAnswer> =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}`, 'accept-encoding': acceptEncoding } }, (res) => {
      const kept: Buffer[] = [];
      let last: Buffer = Buffer.alloc(0);
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (whole) kept.push(chunk);
        // Only the end matters; a big chunk is kept by reference, a small one appended to the last.
        else last = chunk.length >= 96 ? chunk : Buffer.concat([last, chunk]);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'] ?? 'identity', bytes, body: whole ? Buffer.concat(kept) : last.subarray(-96) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });

interface BurstResult {
  readonly seconds: number;
  readonly events: number;
  readonly bytes: number;
  readonly pages: number;
  readonly devicesDone: number;
  readonly p50: number;
  readonly p99: number;
  readonly logReads: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  readonly hits: number;
  readonly misses: number;
  /** CPU seconds used during the run by the server process and by this (client) process. */
  readonly serverCpu: number;
  /** Requests repeated after a connection reset. */
  readonly retries: number;
  readonly clientCpu: number;
  /** Per sampled device: sha256 of each page body, by the cursor it was asked from. */
  readonly sampled: ReadonlyArray<ReadonlyMap<number, string>>;
}

/** Checks a whole page: contiguous seqs right after cursor, the answer's cursor, hasMore. */
const checkPage = (text: string, cursor: number, limit: number, head: number): { cursor: number; hasMore: boolean } => {
  const body = JSON.parse(text) as { events: Array<{ seq: number }>; cursor: number; hasMore: boolean };
  body.events.forEach((e, i) => {
    if (e.seq !== cursor + 1 + i) throw new Error(`page after ${cursor}: event ${i} has seq ${e.seq}`);
  });
  const expected = Math.min(limit, head - cursor);
  if (body.events.length !== expected || body.cursor !== cursor + expected || body.hasMore !== cursor + expected < head)
    throw new Error(`page after ${cursor}: ${body.events.length} events, cursor ${body.cursor}, hasMore ${body.hasMore}`);
  return body;
};

type Encoding = 'identity' | 'br';

/** A GET is safe to repeat: a keep-alive connection reset under load is retried (and counted). */
const getPageRetrying = async (agent: http.Agent, url: URL, token: string, whole: boolean, encoding: Encoding, retried: () => void): Promise<PageAnswer> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getPage(agent, url, token, whole, encoding);
    } catch (err) {
      if (attempt >= 5 || (err as { code?: string }).code !== 'ECONNRESET') throw err;
      retried();
    }
  }
};

/**
 * Every device pulls from cursor 0 to the head. Sampled devices read and check every page whole
 * (decompressed when compressed). The others, to keep the client light, read only the end of each
 * page (cursor, hasMore) when it is plain JSON; when it is compressed they do not decompress it
 * (a laptop would, on its own CPU): they step by the page size and check the page's length against
 * the one a sampled device verified.
 */
const burst = async (
  server: ServerProcess,
  workspaceId: string,
  tokens: readonly string[],
  options: { pageSize: number; head: number; seconds: number; encoding: Encoding },
): Promise<BurstResult> => {
  const { pageSize, head, seconds, encoding } = options;
  const verifiedLength = new Map<number, number>();
  let retries = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: tokens.length, maxFreeSockets: tokens.length });
  const latencies: number[] = [];
  const sampled = Array.from({ length: Math.min(SAMPLED_DEVICES, tokens.length) }, () => new Map<number, string>());
  let events = 0;
  let bytes = 0;
  let devicesDone = 0;
  let peakRss = 0;
  const readsBefore = await server.metric('strata_changes_log_reads_total');
  const serverCpuBefore = await server.metric('process_cpu_seconds_total');
  const clientCpuBefore = process.cpuUsage();
  const sampler = setInterval(() => void server.metric('process_resident_memory_bytes').then((rss) => (peakRss = Math.max(peakRss, rss)), () => undefined), 1000);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    tokens.map(async (token, device) => {
      const sample = sampled[device];
      let cursor = 0;
      while (performance.now() < deadline) {
        const url = new URL(`${server.url}/v1/workspaces/${workspaceId}/changes?cursor=${cursor}&limit=${pageSize}`);
        const t0 = performance.now();
        const page = await getPageRetrying(agent, url, token, sample !== undefined, encoding, () => retries++);
        latencies.push(performance.now() - t0);
        if (page.status !== 200) throw new Error(`device ${device}: HTTP ${page.status} ${page.body.toString()}`);
        if (page.encoding !== encoding) throw new Error(`device ${device}: asked for ${encoding}, got ${page.encoding}`);
        bytes += page.bytes;
        let next: number;
        let hasMore: boolean;
        if (sample !== undefined) {
          const text = (encoding === 'br' ? zlib.brotliDecompressSync(page.body) : page.body).toString();
          sample.set(cursor, crypto.createHash('sha256').update(text).digest('hex'));
          verifiedLength.set(cursor, page.bytes);
          ({ cursor: next, hasMore } = checkPage(text, cursor, pageSize, head));
        } else if (encoding === 'identity') {
          const tail = PAGE_TAIL.exec(page.body.toString());
          if (tail === null) throw new Error(`device ${device}: unexpected page end ${page.body.toString()}`);
          [next, hasMore] = [Number(tail[1]), tail[2] === 'true'];
        } else {
          const verified = verifiedLength.get(cursor);
          if (verified !== undefined && verified !== page.bytes) throw new Error(`device ${device}: page after ${cursor} is ${page.bytes} bytes, ${verified} verified`);
          next = Math.min(cursor + pageSize, head);
          hasMore = next < head;
        }
        if (next <= cursor && hasMore) throw new Error(`device ${device}: no progress at ${cursor}`);
        events += next - cursor;
        cursor = next;
        if (!hasMore) {
          if (cursor !== head) throw new Error(`device ${device}: ended at ${cursor}, the head is ${head}`);
          devicesDone++;
          return;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  clearInterval(sampler);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const rss = await server.metric('process_resident_memory_bytes');
  return {
    seconds: elapsed,
    events,
    bytes,
    pages: latencies.length,
    devicesDone,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    logReads: (await server.metric('strata_changes_log_reads_total')) - readsBefore,
    rssBytes: rss,
    peakRssBytes: Math.max(peakRss, rss),
    hits: await server.metric('strata_changes_cache_hits_total'),
    misses: await server.metric('strata_changes_cache_misses_total'),
    serverCpu: (await server.metric('process_cpu_seconds_total')) - serverCpuBefore,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6,
    retries,
    sampled,
  };
};

const reachable = async (url: string): Promise<boolean> => {
  const u = new URL(url);
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
};

export const benchBurst = async (): Promise<void> => {
  const eventCount = Number(process.env.BENCH_EVENTS ?? 100_000);
  const deviceCount = Number(process.env.BENCH_DEVICES ?? 1000);
  const pageSize = Number(process.env.BENCH_PAGE ?? 1000);
  const cachedSeconds = Number(process.env.BENCH_SECONDS ?? 600);
  const baselineSeconds = Number(process.env.BENCH_BASELINE_SECONDS ?? 30);
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withRedis = await reachable(redisUrl);
  const secret = crypto.randomBytes(32);
  const db = await benchDatabase();
  const results: Array<[string, BurstResult]> = [];
  let seedSeconds = NaN;
  try {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    const workspace = await seedWorkspace(pool, eventCount);
    seedSeconds = workspace.seedSeconds;
    const tokens = await seedDevices(pool, secret, workspace, deviceCount);
    await pool.query('ANALYZE');
    await pool.end();
    const scenarios = [
      ['cache on', 'on', cachedSeconds, 'identity'],
      ['cache on, brotli', 'on', cachedSeconds, 'br'],
      ['cache off (baseline)', 'off', baselineSeconds, 'identity'],
    ] as const;
    for (const [label, cache, seconds, encoding] of scenarios) {
      if (encoding === 'br' && process.env.BENCH_BROTLI === '0') continue;
      const server = await startServerProcess({
        script: 'bench/burst.ts',
        env: {
          BENCH_BURST_SERVE: '1', DATABASE_URL: db.url, BENCH_SECRET_HEX: secret.toString('hex'), BENCH_CHANGES_CACHE: cache,
          ...(withRedis ? { REDIS_URL: redisUrl } : {}),
          // A .cpuprofile of the server per run (for Chrome DevTools), to see where its time goes.
          ...(process.env.BENCH_CPU_PROFILE ? { BENCH_CPU_PROFILE: `${process.env.BENCH_CPU_PROFILE}-cache-${cache}.cpuprofile` } : {}),
        },
      });
      try {
        const result = await burst(server, workspace.workspaceId, tokens, { pageSize, head: eventCount, seconds, encoding });
        results.push([label, result]);
        console.log(`burst: ${label} done: ${fmt(result.events / result.seconds, 0)} events/s over ${fmt(result.seconds, 1)}s, ${result.retries} retried requests`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await db.drop();
  }
  const [cached, uncached] = [results[0]?.[1], results.at(-1)?.[1]] as [BurstResult, BurstResult];
  // The same JSON with and without the cache (and once decompressed), page by page, for the sampled devices.
  let compared = 0;
  for (const [, run] of results.slice(1))
    cached.sampled.forEach((pages, device) => {
      for (const [cursor, hash] of run.sampled[device] ?? new Map<number, string>()) {
        if (pages.get(cursor) !== hash) throw new Error(`device ${device}: the page after ${cursor} differs between runs`);
        compared++;
      }
    });
  const rate = (r: BurstResult) => r.events / r.seconds;
  console.log(
    `\nburst: ${eventCount} events, ${deviceCount} devices from cursor 0, pages of ${pageSize}; Redis ${withRedis ? 'on' : 'off'}; ` +
      `seeded in ${fmt(seedSeconds, 0)}s; ${machine()}, ${new Date().toISOString()}`,
  );
  console.log('| server | seconds | devices done | pages | events/s | MB/s | p50 ms | p99 ms | log reads | hits | misses | RSS MiB (peak) | server CPU s | client CPU s | events per server CPU s | retried |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, r] of results)
    console.log(
      `| ${label} | ${fmt(r.seconds, 1)} | ${r.devicesDone} | ${r.pages} | ${fmt(rate(r), 0)} | ${fmt(r.bytes / r.seconds / 1e6, 0)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ` +
        `${r.logReads} | ${Number.isNaN(r.hits) ? '-' : r.hits} | ${Number.isNaN(r.misses) ? '-' : r.misses} | ${fmt(r.rssBytes / 2 ** 20, 0)} (${fmt(r.peakRssBytes / 2 ** 20, 0)}) | ` +
        `${fmt(r.serverCpu, 1)} | ${fmt(r.clientCpu, 1)} | ${fmt(r.events / r.serverCpu, 0)} | ${r.retries} |`,
    );
  console.log(
    `ratio events/s cache on / off: ${fmt(rate(cached) / rate(uncached), 1)}×; log reads per page served: on ${fmt(cached.logReads / cached.pages, 4)}, off ${fmt(uncached.logReads / uncached.pages, 2)}; ` +
      `${compared} sampled pages byte-identical across the runs`,
  );
};

const startProfiler = async () => {
  const inspector = await import('node:inspector');
  const fs = await import('node:fs');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string) => new Promise<unknown>((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    stop: async (file: string) => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      fs.writeFileSync(file, JSON.stringify(profile));
    },
  };
};

/** `node --import tsx bench/burst.ts` with BENCH_BURST_SERVE=1: the Strata node under test, cache on or off. */
const serve = async (): Promise<void> => {
  const env = process.env;
  const logger = pino({ level: env.LOG_LEVEL ?? 'warn' });
  const pool = createPool(env.DATABASE_URL as string, Number(env.STRATA_PG_POOL_SIZE ?? 20), logger);
  const blobs = await blobStoreFromEnv(env, env.STRATA_DATA_DIR as string, pool);
  const unlimited = 1_000_000_000;
  const gateway = await startGateway(
    {
      pool,
      logger,
      blobs,
      redisUrl: env.REDIS_URL ?? null,
      settings: {
        publicUrl: null,
        defaultQuotaBytes: 1024 ** 4,
        secret: Buffer.from(env.BENCH_SECRET_HEX as string, 'hex'),
        accessTokenTtlSeconds: 900,
        transferUrlTtlSeconds: 600,
        rateLimits: { devicePerMinute: unlimited, workspacePerMinute: unlimited, addressPerMinute: unlimited },
        changesCache: { enabled: env.BENCH_CHANGES_CACHE !== 'off', maxBytes: Number(env.BENCH_CACHE_BYTES ?? 256 * 1024 ** 2) },
      },
    },
    { port: Number(env.PORT), host: '127.0.0.1' },
  );
  const profiler = env.BENCH_CPU_PROFILE ? await startProfiler() : null;
  process.on('SIGTERM', () => {
    (profiler?.stop(env.BENCH_CPU_PROFILE as string) ?? Promise.resolve())
      .then(() => gateway.close())
      .then(() => pool.end())
      .finally(() => {
        blobs.circuit.shutdown();
        process.exit(0);
      });
  });
};

if (process.env.BENCH_BURST_SERVE === '1' && path.resolve(process.argv[1] ?? '') === path.resolve(import.meta.filename ?? '')) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
