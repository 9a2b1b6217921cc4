import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_VERSIONS, EventRanges } from '../../../../src/gateway/sync/cache/eventRanges.js';
import { ByteLru, type Evictable } from '../../../../src/gateway/sync/cache/lru.js';

const ev = (ws: string, v: number) => `{"seq":${v},"ws":"${ws}"}`;
const run = (ws: string, first: number, n: number) => Array.from({ length: n }, (_, i) => ev(ws, first + i));
const rangesWith = (maxBytes = 1e12) => {
  const lru = new ByteLru<Evictable>(maxBytes);
  const added: string[] = [];
  const removed: string[] = [];
  const ranges = new EventRanges(lru, { added: (w) => added.push(w), removed: (w) => removed.push(w) });
  return { lru, ranges, added, removed };
};

describe('event ranges of a workspace', () => {
  it('answers a run with no hole from a version, across block boundaries, up to a maximum', () => {
    const { ranges } = rangesWith();
    ranges.insert('w', 1, run('w', 1, BLOCK_VERSIONS + 10));
    expect(ranges.contiguous('w', 1, 3)).toEqual(run('w', 1, 3));
    expect(ranges.contiguous('w', BLOCK_VERSIONS - 1, 5)).toEqual(run('w', BLOCK_VERSIONS - 1, 5));
    expect(ranges.contiguous('w', BLOCK_VERSIONS + 5, 100)).toEqual(run('w', BLOCK_VERSIONS + 5, 6));
    expect(ranges.contiguous('w', BLOCK_VERSIONS + 11, 100)).toEqual([]);
    expect(ranges.contiguous('other', 1, 100)).toEqual([]);
  });

  it('merges a commit that extends a run, and stops at a hole', () => {
    const { ranges } = rangesWith();
    ranges.insert('w', 1, run('w', 1, 5));
    ranges.insert('w', 6, run('w', 6, 2));
    ranges.insert('w', 10, run('w', 10, 1));
    expect(ranges.contiguous('w', 1, 100)).toEqual(run('w', 1, 7));
    expect(ranges.holds('w', 10)).toBe(false); // a second run in one block: the longer one stays
    ranges.insert('w', 8, run('w', 8, 3));
    expect(ranges.contiguous('w', 3, 100)).toEqual(run('w', 3, 8));
    expect(ranges.workspace('w')?.knownHead).toBe(10);
  });

  it('ends a run where an evicted block was, and forgets a workspace that lost its last block', () => {
    // A block of these events takes ~36 kB: room for two and a half.
    const { ranges, lru, added, removed } = rangesWith(90_000);
    ranges.insert('w', 1, run('w', 1, BLOCK_VERSIONS * 2));
    ranges.contiguous('w', BLOCK_VERSIONS + 1, 1); // the second block is now the most recently used
    ranges.insert('x', 1, run('x', 1, BLOCK_VERSIONS));
    expect(ranges.contiguous('w', 1, 10)).toEqual([]);
    expect(ranges.contiguous('w', BLOCK_VERSIONS + 1, 3)).toEqual(run('w', BLOCK_VERSIONS + 1, 3));
    expect(lru.evictions).toBe(1);
    ranges.insert('y', 1, run('y', 1, BLOCK_VERSIONS * 2));
    expect(ranges.workspace('w')).toBeUndefined();
    expect(added).toEqual(['w', 'x', 'y']);
    expect(removed).toEqual(expect.arrayContaining(['w', 'x']));
  });

  it('only ever answers the right events, without a hole, within its budget, whatever is inserted and evicted', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), ws: fc.constantFrom('a', 'b'), first: fc.integer({ min: 1, max: 2000 }), n: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ kind: fc.constant('read' as const), ws: fc.constantFrom('a', 'b'), from: fc.integer({ min: 0, max: 2600 }), max: fc.integer({ min: 1, max: 1500 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 2_000, max: 200_000 }), (ops, budget) => {
        const { ranges, lru } = rangesWith(budget);
        const inserted = { a: new Set<number>(), b: new Set<number>() };
        for (const o of ops) {
          if (o.kind === 'insert') {
            ranges.insert(o.ws, o.first, run(o.ws, o.first, o.n));
            for (let v = o.first; v < o.first + o.n; v++) inserted[o.ws].add(v);
          } else {
            const got = ranges.contiguous(o.ws, o.from, o.max);
            expect(got.length).toBeLessThanOrEqual(o.max);
            expect(got).toEqual(run(o.ws, o.from, got.length));
            for (let v = o.from; v < o.from + got.length; v++) expect(inserted[o.ws].has(v)).toBe(true);
            // The run goes on as long as the next version is held.
            if (got.length < o.max && o.from >= 1) expect(ranges.holds(o.ws, o.from + got.length)).toBe(false);
          }
          expect(lru.bytes).toBeLessThanOrEqual(budget);
        }
      }),
      { numRuns: 200 },
    );
  });
});
