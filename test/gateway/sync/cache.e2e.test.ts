import http from 'node:http';
import zlib from 'node:zlib';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import { apiEvent } from '../../../src/gateway/sync/apiEvent.js';
import { readStream } from '../../../src/storage/eventlog/postgres/read.js';
import type { StoredEvent } from '../../../src/storage/eventlog/types.js';
import { workspaceEventSchema, workspaceStreamId } from '../../../src/storage/eventlog/workspaceSchema.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { loginDevice, newEmail, type Device } from '../../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { chunkOf, commandsFor } from '../../support/workspaceCommands.js';

const redisUrl = inject('redisUrl');
const TINY_BUDGET = 24_000;

interface Raw {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** GET with node:http: the bytes exactly as sent (no transparent decompression). */
const rawGet = (base: string, path: string, token: string, acceptEncoding?: string): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
    http
      .get(`${base}${path}`, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });

const metric = async (base: string, name: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
};

/** What the changes route answered before the cache: JSON.stringify of the page read from es_events. */
const render = (events: readonly StoredEvent<WorkspaceEvent>[], cursor: number, limit: number): string => {
  const page = events.slice(0, limit);
  return JSON.stringify({ events: page.map(apiEvent), cursor: page.at(-1)?.version ?? cursor, hasMore: events.length > limit });
};

describe('the changes feed served from memory by two nodes on one database (and one Redis when available)', () => {
  let db: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;
  let tiny: TestGateway;
  let laptop: Device;
  let phone: Device;
  let commands: ReturnType<typeof commandsFor>;
  const folders: string[] = [];
  let named = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    const secret = Buffer.from('shared-secret-of-the-cache-nodes-0123456789');
    [a, b, tiny] = await Promise.all([
      startTestGateway(db, { redisUrl, secret }),
      startTestGateway(db, { redisUrl, secret }),
      startTestGateway(db, { redisUrl, secret, settings: { changesCache: { enabled: true, maxBytes: TINY_BUDGET } } }),
    ]);
    const email = newEmail();
    laptop = await loginDevice(a.url, email, 'laptop');
    phone = await loginDevice(b.url, email, 'phone', false);
    commands = commandsFor(laptop.workspaceId, laptop.userId);
  });
  afterAll(async () => {
    agent.destroy();
    await Promise.all([a?.close(), b?.close(), tiny?.close()]);
    await db?.drop();
  });

  const logEvents = () => readStream(db.pool, workspaceEventSchema, workspaceStreamId(laptop.workspaceId), 0, 1_000_000);
  const head = async () => (await logEvents()).length;
  const changes = (node: TestGateway, cursor: number, limit: number, who = phone, acceptEncoding?: string) =>
    rawGet(node.url, `/v1/workspaces/${laptop.workspaceId}/changes?cursor=${cursor}&limit=${limit}`, who.accessToken, acceptEncoding);

  /** One commit through a node: a folder over HTTP, or a file version, a move or a delete through its command handler. */
  const commit = async (node: TestGateway, kind: number): Promise<void> => {
    const name = `n${++named} ✓`;
    const handled = async (command: Parameters<TestGateway['deps']['handle']>[0]) => {
      const r = await node.deps.handle(command);
      if (E.isLeft(r)) throw new Error(`${command.type}: ${r.left.code}`);
    };
    if (kind === 0 || folders.length < 2) {
      const made = await api(node.url).post('/v1/folders', { workspaceId: laptop.workspaceId, parentId: laptop.rootId, name }, laptop.accessToken);
      expect(made.status).toBe(201);
      folders.push(made.body.nodeId as string);
    } else if (kind === 1) await handled(commands.commitNew(laptop.rootId, `${name}.txt`, [chunkOf(name, 10), chunkOf(`${name}2`, 20)]));
    else if (kind === 2) await handled(commands.move(folders.at(-1) as string, laptop.rootId, `${name} moved`));
    else await handled(commands.remove(folders.pop() as string));
  };

  it('answers exactly what the log holds, whatever the interleaving of commits and reads on either node', async () => {
    const nodes = () => [a, b, tiny] as const;
    const step = fc.oneof(
      fc.record({ kind: fc.constant('commit' as const), node: fc.integer({ min: 0, max: 1 }), what: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('read' as const), node: fc.integer({ min: 0, max: 2 }), at: fc.double({ min: 0, max: 1.1, noNaN: true }), limit: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ kind: fc.constant('race' as const), node: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 3 }), readers: fc.integer({ min: 1, max: 6 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 12 }), async (steps) => {
        const answers: Array<{ cursor: number; limit: number; headBefore: number; body: Buffer }> = [];
        const read = async (node: TestGateway, cursor: number, limit: number) => {
          const headBefore = await head();
          const r = await changes(node, cursor, limit, phone, 'identity');
          expect(r.status).toBe(200);
          answers.push({ cursor, limit, headBefore, body: r.body });
        };
        for (const s of steps) {
          if (s.kind === 'commit') for (let i = 0; i < s.n; i++) await commit(nodes()[s.node] as TestGateway, s.what);
          else if (s.kind === 'read') {
            const h = await head();
            await read(nodes()[s.node] as TestGateway, Math.floor(s.at * h), s.limit);
          } else {
            // Reads from the tail on every node while commits land on one of them.
            const h = await head();
            await Promise.all([
              (async () => {
                for (let i = 0; i < s.n; i++) await commit(s.node === 1 ? b : a, 0);
              })(),
              ...Array.from({ length: s.readers }, (_, i) => read(nodes()[(s.node + i) % 3] as TestGateway, Math.max(0, h - 2), 3 + i)),
            ]);
          }
        }
        const log = await logEvents();
        for (const x of answers) {
          const parsed = JSON.parse(x.body.toString()) as { events: Array<{ seq: number }>; hasMore: boolean };
          const seen = x.cursor + parsed.events.length + (parsed.hasMore ? 1 : 0);
          // Byte for byte the log's answer when its head was where this one says; never missing what was committed before it was asked.
          expect(x.body.toString()).toBe(render(log.slice(x.cursor, Math.min(seen, x.cursor + x.limit + 1)), x.cursor, x.limit));
          if (!parsed.hasMore) expect(x.cursor + parsed.events.length).toBeGreaterThanOrEqual(Math.min(x.headBefore, x.cursor + x.limit));
        }
      }),
      { numRuns: 6 },
    );
    // Whatever the random steps read where: node a serves again from memory a page it has read
    // (one that stops short of the head), and the tiny node reads past its budget.
    // Enough events that their pages outgrow the tiny budget (a folder's event is ~300 bytes of JSON).
    while ((await head()) < 120) await commit(a, 0);
    const h = await head();
    for (let i = 0; i < 2; i++) expect((await changes(a, 0, h - 1, phone, 'identity')).status).toBe(200);
    for (let cursor = 0; cursor < h; cursor += 3) expect((await changes(tiny, cursor, 3, phone, 'identity')).status).toBe(200);
    // The tiny node kept to its budget by evicting, and says so.
    expect(await metric(tiny.url, 'strata_changes_cache_evictions_total')).toBeGreaterThan(0);
    expect(await metric(tiny.url, 'strata_changes_cache_bytes')).toBeLessThanOrEqual(TINY_BUDGET);
    expect(await metric(a.url, 'strata_changes_cache_hits_total')).toBeGreaterThan(0);
  });

  it('reads the log once when many devices ask a node for the same page at once, and sends them the same bytes', async () => {
    while ((await head()) < 40) await commit(a, 0);
    const fresh = await startTestGateway(db, { redisUrl, secret: Buffer.from('shared-secret-of-the-cache-nodes-0123456789') });
    try {
      const before = await metric(fresh.url, 'strata_changes_log_reads_total');
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => changes(fresh, 5, 20, i % 2 === 0 ? phone : laptop, 'identity')));
      expect((await metric(fresh.url, 'strata_changes_log_reads_total')) - before).toBe(1);
      expect(new Set(answers.map((r) => r.body.toString('base64'))).size).toBe(1);
      expect(answers[0]?.body.toString()).toBe(render((await logEvents()).slice(5, 26), 5, 20));
      // Those that came while the read was under way waited for it; the later ones were served from memory.
      const [misses, hits] = [await metric(fresh.url, 'strata_changes_cache_misses_total'), await metric(fresh.url, 'strata_changes_cache_hits_total')];
      expect(misses).toBeGreaterThanOrEqual(1);
      expect(misses + hits).toBe(60);
    } finally {
      await fresh.close();
    }
  });

  it('compresses a page once per coding when the device accepts it, to the very same JSON', async () => {
    const plain = await changes(a, 0, 30, phone, 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    const gz = await changes(a, 0, 30, laptop, 'gzip');
    const br = await changes(b, 0, 30, phone, 'gzip, deflate, br');
    const brAgain = await changes(b, 0, 30, laptop, 'br');
    expect([gz.headers['content-encoding'], br.headers['content-encoding']]).toEqual(['gzip', 'br']);
    expect(gz.headers.vary).toMatch(/accept-encoding/i);
    expect(zlib.gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(zlib.brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(brAgain.body.equals(br.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length);
    // fetch decompresses by itself: the body a plain client sees is the JSON.
    expect((await api(a.url).get(`/v1/workspaces/${laptop.workspaceId}/changes?cursor=0&limit=30`, phone.accessToken)).body).toEqual(JSON.parse(plain.body.toString()));
  });

  it('answers like before with the cache switched off, and keeps the other answers of the route', async () => {
    const off = await startTestGateway(db, { redisUrl, secret: Buffer.from('shared-secret-of-the-cache-nodes-0123456789'), settings: { changesCache: { enabled: false, maxBytes: 0 } } });
    try {
      const h = await head();
      for (const [cursor, limit] of [[0, 7], [h - 3, 10], [h, 10], [h + 5, 1]] as const) {
        const [cached, uncached] = await Promise.all([changes(a, cursor, limit, phone, 'identity'), changes(off, cursor, limit, phone, 'identity')]);
        expect(cached.body.toString()).toBe(uncached.body.toString());
      }
      expect((await changes(a, 0, 10, phone)).status).toBe(200);
      const stranger = await loginDevice(a.url, newEmail());
      expect((await changes(a, 0, 10, stranger)).status).toBe(404);
      expect((await rawGet(a.url, `/v1/workspaces/${laptop.workspaceId}/changes?cursor=-1`, phone.accessToken)).status).toBe(400);
    } finally {
      await off.close();
    }
  });

  it('shows in the device list the cursor each device pulled, written in batches', async () => {
    const h = await head();
    await changes(b, h - 5, 100, phone);
    await changes(a, 0, 3, laptop);
    const listed = await api(b.url).get('/v1/devices', phone.accessToken);
    const cursors = Object.fromEntries((listed.body.devices as Array<{ deviceId: string; cursor: number }>).map((d) => [d.deviceId, d.cursor]));
    expect(cursors[phone.deviceId]).toBe(h);
    // Pulled through node A: written there within a second (GET /v1/devices on A shows it at once).
    expect(((await api(a.url).get('/v1/devices', laptop.accessToken)).body.devices as Array<{ deviceId: string; cursor: number }>).find((d) => d.deviceId === laptop.deviceId)?.cursor).toBeGreaterThanOrEqual(3);
  });
});
