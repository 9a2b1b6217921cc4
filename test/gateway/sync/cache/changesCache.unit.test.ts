import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WorkspaceEvent } from '../../../../src/domain/workspace/events.js';
import { apiEvent } from '../../../../src/gateway/sync/apiEvent.js';
import { createChangesCache, negotiateEncoding, type ChangesCacheOptions } from '../../../../src/gateway/sync/cache/index.js';
import { inJsonbKeyOrder } from '../../../../src/gateway/sync/cache/encoding.js';
import type { StoredEvent } from '../../../../src/storage/eventlog/types.js';

type Ev = StoredEvent<WorkspaceEvent>;
const logger = pino({ level: 'silent' });

/** A log in memory: events per workspace, reads counted and, when asked, held until released. */
const memoryLog = () => {
  const streams = new Map<string, Ev[]>();
  const held: Array<() => void> = [];
  let holding = false;
  let reads = 0;
  const stream = (ws: string) => streams.get(ws) ?? (streams.set(ws, []), streams.get(ws) as Ev[]);
  const append = (ws: string, n = 1): Ev[] => {
    const s = stream(ws);
    const made = Array.from({ length: n }, (_, i): Ev => {
      const version = s.length + i + 1;
      // Data as it comes back from jsonb (keys by length, then bytes), so committed and read-back events render alike.
      const data = inJsonbKeyOrder({ nodeId: `n${version}`, parentId: 'root', name: `folder ${version} é` }) as { nodeId: never; parentId: never; name: string };
      return {
        streamId: `workspace-${ws}`, version, eventId: `e${version}`,
        event: { type: 'FolderCreated', data },
        metadata: { at: '2026-01-01T00:00:00.000Z' as never, userId: 'u' as never, deviceId: null, correlationId: 'c', causationId: null },
        position: { txId: 1n, globalPosition: BigInt(version) },
      };
    });
    s.push(...made);
    return made;
  };
  return {
    append,
    head: (ws: string) => stream(ws).length,
    reads: () => reads,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const go of held.splice(0)) go();
    },
    read: async (ws: string, after: number, limit: number) => {
      reads++;
      // The snapshot is taken when the read runs, as a database would.
      const snapshot = stream(ws).slice(after, after + limit);
      if (holding) await new Promise<void>((go) => held.push(go));
      return snapshot;
    },
    /** What the route answered before the cache: JSON.stringify of the page read from the log. */
    reference: (ws: string, cursor: number, limit: number, head = stream(ws).length) => {
      const events = stream(ws).slice(cursor, Math.min(head, cursor + limit + 1));
      const page = events.slice(0, limit);
      return JSON.stringify({ events: page.map(apiEvent), cursor: page.at(-1)?.version ?? cursor, hasMore: events.length > limit });
    },
  };
};

const cacheOver = (log: ReturnType<typeof memoryLog>, extra: Partial<ChangesCacheOptions> = {}) =>
  createChangesCache({ log: { read: log.read }, maxBytes: 64 * 1024 ** 2, logger, ...extra });

describe('the changes cache over a log', () => {
  it('answers what the log answers, byte for byte, and a second time from memory', async () => {
    const log = memoryLog();
    log.append('w', 30);
    const cache = cacheOver(log);
    for (const [cursor, limit] of [[0, 10], [10, 10], [25, 10], [30, 10], [99, 3], [0, 5000]] as const)
      expect((await cache.changes('w', cursor, limit)).body.toString()).toBe(log.reference('w', cursor, limit));
    const reads = log.reads();
    expect((await cache.changes('w', 3, 7)).body.toString()).toBe(log.reference('w', 3, 7));
    expect(log.reads()).toBe(reads);
    expect(cache.stats()).toMatchObject({ logReads: reads, hits: 1 });
  });

  it('reads the log once for many devices asking for the same page at once, and gives them all the same bytes', async () => {
    const log = memoryLog();
    log.append('w', 3000);
    const cache = cacheOver(log);
    log.hold();
    const asks = Array.from({ length: 200 }, () => cache.changes('w', 1000, 1000));
    await new Promise((r) => setTimeout(r, 5));
    log.release();
    const pages = await Promise.all(asks);
    expect(log.reads()).toBe(1);
    expect(new Set(pages.map((p) => p.body)).size).toBe(1);
    expect(pages[0]?.body.toString()).toBe(log.reference('w', 1000, 1000));
    expect(cache.stats()).toMatchObject({ misses: 200, logReads: 1 });
  });

  it('never takes the end of a read that began before a request arrived for the head', async () => {
    const log = memoryLog();
    log.append('w', 5);
    const cache = cacheOver(log);
    log.hold();
    const early = cache.changes('w', 5, 10);
    await new Promise((r) => setTimeout(r, 1));
    log.append('w', 2); // committed after the first read began, before the second request
    const late = cache.changes('w', 5, 10);
    log.release();
    await new Promise((r) => setTimeout(r, 1));
    log.release();
    expect(JSON.parse((await early).body.toString())).toEqual({ events: [], cursor: 5, hasMore: false });
    expect((await late).body.toString()).toBe(log.reference('w', 5, 10));
    expect((await late).count).toBe(2);
  });

  it('extends its ranges with committed events, reading only to confirm the head', async () => {
    const log = memoryLog();
    log.append('w', 10);
    const cache = cacheOver(log);
    await cache.changes('w', 0, 100);
    cache.committed('w', log.append('w', 3));
    const reads = log.reads();
    const page = await cache.changes('w', 8, 100);
    expect(page.body.toString()).toBe(log.reference('w', 8, 100));
    expect(log.reads() - reads).toBe(1); // the read after version 13, which found nothing
  });

  it('prefetches what another node committed for a workspace it holds', async () => {
    const log = memoryLog();
    log.append('w', 10);
    const listeners = new Map<string, (cursor: number) => void>();
    const cache = cacheOver(log, { watch: (ws, l) => (listeners.set(ws, l), () => void listeners.delete(ws)) });
    await cache.changes('w', 0, 100);
    log.append('w', 4);
    listeners.get('w')?.(14);
    await new Promise((r) => setTimeout(r, 1));
    const reads = log.reads();
    expect((await cache.changes('w', 10, 3)).body.toString()).toBe(log.reference('w', 10, 3));
    expect(log.reads()).toBe(reads);
    cache.close();
    expect(listeners.size).toBe(0);
  });

  it('stays within a tiny budget, evicting, and still answers exactly', async () => {
    const log = memoryLog();
    log.append('w', 2000);
    const sizes: number[] = [];
    let evictions = 0;
    const cache = cacheOver(log, { maxBytes: 20_000, observer: { size: (b, e) => (sizes.push(b), (evictions += e)) } });
    for (let cursor = 0; cursor < 2000; cursor += 97) expect((await cache.changes('w', cursor, 150)).body.toString()).toBe(log.reference('w', cursor, 150));
    expect(evictions).toBeGreaterThan(0);
    expect(cache.stats().evictions).toBe(evictions);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20_000);
  });

  it('answers every interleaving of commits, other nodes\' commits and reads as the log would at some moment', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('commit' as const), n: fc.integer({ min: 1, max: 4 }), here: fc.boolean() }),
      fc.record({ kind: fc.constant('read' as const), at: fc.double({ min: 0, max: 1.2, noNaN: true }), limit: fc.integer({ min: 1, max: 40 }), racing: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), fc.constantFrom(4_000, 50_000, 10_000_000), async (steps, budget) => {
        const log = memoryLog();
        log.append('w', 3);
        const cache = cacheOver(log, { maxBytes: budget });
        const pending: Array<Promise<void>> = [];
        for (const s of steps) {
          if (s.kind === 'commit') {
            const made = log.append('w', s.n);
            if (s.here) cache.committed('w', made);
            continue;
          }
          const cursor = Math.floor(s.at * log.head('w'));
          const headBefore = log.head('w');
          const asked = cache.changes('w', cursor, s.limit).then((page) => {
            const body = JSON.parse(page.body.toString()) as { events: Array<{ seq: number }>; cursor: number; hasMore: boolean };
            // The events are the log's, contiguous from the cursor; hasMore only when the page is full;
            // without it, nothing committed before the request is missing.
            expect(page.body.toString()).toBe(log.reference('w', cursor, s.limit, cursor + body.events.length + (body.hasMore ? 1 : 0)));
            if (!body.hasMore) expect(cursor + body.events.length).toBeGreaterThanOrEqual(Math.min(headBefore, cursor + s.limit));
          });
          if (s.racing) pending.push(asked);
          else await asked;
        }
        await Promise.all(pending);
      }),
      { numRuns: 150 },
    );
  });
});

describe('choosing a content coding', () => {
  it('prefers brotli, then gzip, honours q=0, and falls back to none', () => {
    expect(negotiateEncoding(undefined)).toBe('identity');
    expect(negotiateEncoding('gzip, deflate, br')).toBe('br');
    expect(negotiateEncoding('gzip')).toBe('gzip');
    expect(negotiateEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(negotiateEncoding('br;q=0.2, gzip;q=0.9')).toBe('gzip');
    expect(negotiateEncoding('identity')).toBe('identity');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*, br;q=0')).toBe('gzip');
    expect(negotiateEncoding('deflate')).toBe('identity');
  });
});

describe('the jsonb key order', () => {
  it('puts shorter keys first, then orders by bytes, at every depth', () => {
    const ordered = inJsonbKeyOrder({ name: 1, size: 2, chunks: [{ size: 1, hash: 'h' }], nodeId: 3, b: { zz: 1, a: 2 } });
    expect(JSON.stringify(ordered)).toBe('{"b":{"a":2,"zz":1},"name":1,"size":2,"chunks":[{"hash":"h","size":1}],"nodeId":3}');
  });
});
