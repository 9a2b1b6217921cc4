import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { pageBody } from './encoding.js';
import type { ByteLru, Evictable } from './lru.js';

export type ContentEncoding = 'br' | 'gzip' | 'identity';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
const PAGE_OVERHEAD_BYTES = 300;

/** One changes answer, encoded once: the same bytes for every device that asks for the same page. */
export class Page implements Evictable {
  private readonly encodings = new Map<'br' | 'gzip', Promise<Buffer>>();
  private compressedBytes = 0;

  constructor(
    /** The JSON: {"events":[...],"cursor":c,"hasMore":b}. */
    readonly body: Buffer,
    /** The answer's cursor: the seq of its last event (the asked cursor when it has none). */
    readonly cursor: number,
    readonly count: number,
    readonly hasMore: boolean,
    private readonly resized: (page: Page) => void = () => undefined,
  ) {}

  get bytes(): number {
    return this.body.length + this.compressedBytes + PAGE_OVERHEAD_BYTES;
  }

  /** The body in the given content coding, compressed at most once per coding. */
  encoded(encoding: ContentEncoding): Promise<Buffer> {
    if (encoding === 'identity') return Promise.resolve(this.body);
    let pending = this.encodings.get(encoding);
    if (pending === undefined) {
      pending = encoding === 'gzip' ? gzip(this.body) : brotli(this.body, BROTLI_OPTIONS(this.body.length));
      this.encodings.set(encoding, pending);
      pending.then(
        (compressed) => {
          this.compressedBytes += compressed.length;
          this.resized(this);
        },
        () => this.encodings.delete(encoding),
      );
    }
    return pending;
  }

  dropped(): void {
    // Nothing to release: a device still being sent this page keeps its buffer alive until done.
  }
}

// Quality 5: most of brotli's gain on JSON for a fraction of the cost of its default (11).
const BROTLI_OPTIONS = (size: number): zlib.BrotliOptions => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
  },
});

/**
 * Pages keyed by what fixes their bytes: the cursor asked from, the seq of the last event, and
 * hasMore. A page with hasMore = true is the same forever (events never change once durable); a
 * page that reaches the head is only looked up after the head was read from the log for this request.
 */
export class EncodedPages {
  constructor(private readonly lru: ByteLru<Evictable>) {}

  get(workspaceId: string, cursor: number, last: number, hasMore: boolean): Page | undefined {
    const page = this.lru.get(pageKey(workspaceId, cursor, last, hasMore));
    return page instanceof Page ? page : undefined;
  }

  /** The page of these encoded events after cursor: the one already kept, or encoded now and kept. */
  pageOf(workspaceId: string, cursor: number, events: readonly string[], hasMore: boolean): Page {
    const last = cursor + events.length;
    const key = pageKey(workspaceId, cursor, last, hasMore);
    const kept = this.lru.get(key);
    if (kept instanceof Page) return kept;
    const page = new Page(pageBody(events, last, hasMore), last, events.length, hasMore, (p) => this.lru.resize(key, p, p.bytes));
    this.lru.set(key, page, page.bytes);
    return page;
  }
}

const pageKey = (workspaceId: string, cursor: number, last: number, hasMore: boolean): string =>
  `p\u0000${workspaceId}\u0000${cursor}\u0000${last}\u0000${hasMore ? 1 : 0}`;

/** The coding to answer in: brotli or gzip when the device accepts it (q > 0), else none. */
export const negotiateEncoding = (acceptEncoding: string | undefined): ContentEncoding => {
  if (acceptEncoding === undefined || acceptEncoding === '') return 'identity';
  const q: Record<string, number> = {};
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.split(';');
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m !== null) weight = Number(m[1]);
    }
    const coding = name.trim().toLowerCase();
    if (coding !== '' && Number.isFinite(weight)) q[coding] = weight;
  }
  const weightOf = (coding: string) => q[coding] ?? (coding === 'gzip' ? q['x-gzip'] : undefined) ?? q['*'] ?? 0;
  const br = weightOf('br');
  const gz = weightOf('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return 'identity';
};
