import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkStream, cutPoints, DEFAULT_CHUNKING, knownChunkEndsAt, nextCut, type ChunkingParams } from '../../../src/client/chunking/fastcdc.js';
import { readsOf, seededBytes, sizesOf } from './seededBytes.js';

const MiB = 1024 * 1024;
// The default's proportions (min = avg/4, max = 4 avg) at a scale where thousands of chunks are cheap.
const SMALL: ChunkingParams = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
const TINY: ChunkingParams = { minSize: 64, avgSize: 256, maxSize: 1024 };

const sha256 = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');
const chunkHashes = (bytes: Uint8Array, cuts: readonly number[]): string[] =>
  cuts.map((end, k) => sha256(bytes.subarray(k === 0 ? 0 : cuts[k - 1], end)));
const fixedCuts = (length: number, size: number): number[] =>
  Array.from({ length: Math.ceil(length / size) }, (_, k) => Math.min(length, (k + 1) * size));
const newHashes = (before: readonly string[], after: readonly string[]): number => {
  const known = new Set(before);
  return after.filter((h) => !known.has(h)).length;
};

const collect = async (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> => {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
};

const expectBounds = (sizes: readonly number[], p: ChunkingParams) => {
  sizes.slice(0, -1).forEach((size) => expect(size).toBeGreaterThanOrEqual(p.minSize));
  sizes.forEach((size) => expect(size).toBeLessThanOrEqual(p.maxSize));
};

const random20MiB = seededBytes(20 * MiB, 7);

describe('pseudo-random bytes', () => {
  it('cuts no chunk below minSize but the last, and none above maxSize', () => {
    expectBounds(sizesOf(cutPoints(random20MiB)), DEFAULT_CHUNKING);
    expectBounds(sizesOf(cutPoints(random20MiB.subarray(0, 4 * MiB), SMALL)), SMALL);
    expectBounds(sizesOf(cutPoints(random20MiB.subarray(0, 64 * 1024), TINY)), TINY);
  });

  it('makes chunks of avgSize on average, within 25%', () => {
    // Cut-point skipping adds bytes the masks never look at: the mean sits ~15% above avgSize.
    const many = cutPoints(random20MiB.subarray(0, 16 * MiB), SMALL);
    expect(16 * MiB / many.length / SMALL.avgSize).toBeGreaterThan(1);
    expect(16 * MiB / many.length / SMALL.avgSize).toBeLessThan(1.25);
    expect(random20MiB.length / cutPoints(random20MiB).length / DEFAULT_CHUNKING.avgSize).toBeGreaterThan(0.75);
    expect(random20MiB.length / cutPoints(random20MiB).length / DEFAULT_CHUNKING.avgSize).toBeLessThan(1.25);
  });

  it('cuts at the same offsets on every run, machine and release', () => {
    // Pinned: a change here re-chunks every file every device already uploaded.
    expect(cutPoints(seededBytes(64 * 1024, 42), SMALL)).toEqual([
      4142, 6786, 11984, 16452, 22182, 28778, 34800, 36311, 41062, 44156, 46151, 52721, 56885, 61831, 65536,
    ]);
    expect(cutPoints(random20MiB)).toEqual([
      979969, 2588049, 3771008, 4849621, 6013277, 6748639, 8017507, 9234523, 9505367, 10595408, 11799187, 13085318,
      14528052, 15804060, 16886405, 18277579, 19570271, 20626803, 20971520,
    ]);
    expect(cutPoints(random20MiB)).toEqual(cutPoints(random20MiB.slice()));
  });
});

describe('input too short or too uniform to cut', () => {
  it('gives no chunk for no bytes', async () => {
    expect(cutPoints(new Uint8Array(0))).toEqual([]);
    expect(await collect(chunkStream(readsOf(new Uint8Array(0), [1])))).toEqual([]);
  });

  it('gives one chunk for fewer bytes than minSize', async () => {
    const few = random20MiB.subarray(0, DEFAULT_CHUNKING.minSize - 1);
    expect(cutPoints(few)).toEqual([few.length]);
    expect((await collect(chunkStream(readsOf(few, [4096])))).map((c) => c.length)).toEqual([few.length]);
  });

  it('cuts bytes without a cut point at maxSize', () => {
    expect(sizesOf(cutPoints(new Uint8Array(10 * MiB)))).toEqual([4 * MiB, 4 * MiB, 2 * MiB]);
  });
});

describe('impossible chunk sizes', () => {
  it('are refused before any byte is read', () => {
    expect(() => cutPoints(random20MiB, { minSize: 1024, avgSize: 3000, maxSize: 16384 })).toThrow(RangeError);
    expect(() => cutPoints(random20MiB, { minSize: 8192, avgSize: 4096, maxSize: 16384 })).toThrow(RangeError);
    expect(() => cutPoints(random20MiB, { minSize: 1024, avgSize: 4096, maxSize: 2048 })).toThrow(RangeError);
    expect(() => cutPoints(random20MiB, { minSize: MiB, avgSize: 4 * MiB, maxSize: 32 * MiB })).toThrow(RangeError);
    expect(() => cutPoints(random20MiB, { minSize: 0, avgSize: 4096, maxSize: 16384 })).toThrow(RangeError);
  });
});

describe('a stream of reads', () => {
  it('skips reads of no bytes', async () => {
    async function* withEmptyReads() {
      yield new Uint8Array(0);
      yield random20MiB.subarray(0, 3000);
      yield new Uint8Array(0);
      yield random20MiB.subarray(3000, 5000);
    }
    const chunks = await collect(chunkStream(withEmptyReads(), TINY));
    expect(chunks.map((c) => c.length)).toEqual(sizesOf(cutPoints(random20MiB.subarray(0, 5000), TINY)));
  });

  it('yields the chunks cutPoints gives, whatever the read sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        async (length, seed, readSizes) => {
          const bytes = seededBytes(length, seed);
          const chunks = await collect(chunkStream(readsOf(bytes, readSizes), TINY));
          expect(chunks.map((c) => c.length)).toEqual(sizesOf(cutPoints(bytes, TINY)));
          // Same sizes and the same bytes once joined: each chunk is its slice of the input.
          expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('yields the chunks cutPoints gives with the default sizes, for reads from 1 KiB to 8 MiB', async () => {
    const bytes = random20MiB.subarray(0, 12 * MiB);
    const expected = chunkHashes(bytes, cutPoints(bytes));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1024, max: 8 * MiB }), { minLength: 1, maxLength: 8 }), async (readSizes) => {
        const chunks = await collect(chunkStream(readsOf(bytes, readSizes)));
        expect(chunks.map(sha256)).toEqual(expected);
      }),
      { numRuns: 8 },
    );
  });
});

describe('an edited 20 MiB file', () => {
  const before = chunkHashes(random20MiB, cutPoints(random20MiB));

  it('re-uploads at most two chunks after one byte is inserted at the start', () => {
    const edited = new Uint8Array(random20MiB.length + 1);
    edited[0] = 0x5a;
    edited.set(random20MiB, 1);
    expect(newHashes(before, chunkHashes(edited, cutPoints(edited)))).toBeLessThanOrEqual(2);
    // Fixed-size chunks shift with the byte: every one of them is new.
    const fixedBefore = chunkHashes(random20MiB, fixedCuts(random20MiB.length, 4 * MiB));
    const fixedAfter = chunkHashes(edited, fixedCuts(edited.length, 4 * MiB));
    expect(newHashes(fixedBefore, fixedAfter)).toBe(fixedAfter.length);
  });

  it('re-uploads at most two chunks after 4 KiB are overwritten in the middle', () => {
    const edited = random20MiB.slice();
    edited.set(seededBytes(4096, 99), 10 * MiB);
    expect(newHashes(before, chunkHashes(edited, cutPoints(edited)))).toBeLessThanOrEqual(2);
  });
});

describe('the end of a chunk cut before', () => {
  // Every prefix of a chunk is a run of bytes with no cut point inside: knownChunkEndsAt must find
  // the end at the chunk's own length and at no shorter one, at every offset the scan went past.
  const everyEnd = (bytes: Uint8Array, p: ChunkingParams, chunks = Number.MAX_SAFE_INTEGER) => {
    const cuts = cutPoints(bytes, p).slice(0, chunks);
    cuts.forEach((end, k) => {
      const start = k === 0 ? 0 : (cuts[k - 1] as number);
      for (let size = 1; size <= end - start; size++)
        if (knownChunkEndsAt(bytes, start, size, true, p) !== (size === end - start)) throw new Error(`chunk at ${start}: wrong answer for ${size} bytes (cut at ${end - start})`);
      expect(nextCut(bytes, start, p)).toBe(end);
    });
  };

  it('is found exactly where the scan cuts, and nowhere before it', () => {
    everyEnd(random20MiB.subarray(0, 64 * 1024), TINY);
    everyEnd(random20MiB.subarray(0, MiB), SMALL);
    everyEnd(seededBytes(64 * 1024, 9).map((b) => b & 3), TINY);
    everyEnd(random20MiB, DEFAULT_CHUNKING, 2);
  });

  it('needs the byte after the chunk, unless the input ends there or the chunk is as large as can be', () => {
    const cuts = cutPoints(random20MiB.subarray(0, 8192), TINY);
    const first = cuts[0] as number;
    expect(knownChunkEndsAt(random20MiB.subarray(0, first + 1), 0, first, false, TINY)).toBe(true);
    expect(knownChunkEndsAt(random20MiB.subarray(0, first), 0, first, false, TINY)).toBe(false);
    expect(knownChunkEndsAt(random20MiB.subarray(0, first), 0, first, true, TINY)).toBe(true);
    const zeros = new Uint8Array(3000);
    expect(knownChunkEndsAt(zeros, 0, TINY.maxSize, false, TINY)).toBe(true);
    expect(knownChunkEndsAt(zeros, 0, TINY.maxSize + 1, false, TINY)).toBe(false);
    expect(knownChunkEndsAt(zeros, 0, 10, false, TINY)).toBe(false);
    expect(knownChunkEndsAt(zeros, 2990, 10, true, TINY)).toBe(true);
    expect(knownChunkEndsAt(zeros, 2990, 11, true, TINY)).toBe(false);
  });
});
