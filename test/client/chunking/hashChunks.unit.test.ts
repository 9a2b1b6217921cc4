import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutPoints, DEFAULT_CHUNKING, type ChunkingParams } from '../../../src/client/chunking/fastcdc.js';
import { contentHash, describeReusing, type ByteSource } from '../../../src/client/chunking/hashChunks.js';
import { ChunkHash, type NonNegativeInt } from '../../../src/domain/ids.js';
import { contentHashOf } from '../../support/workspaceCommands.js';
import { seededBytes } from './seededBytes.js';

const hashOf = (text: string): ChunkHash => {
  const hex = crypto.createHash('sha256').update(text).digest('hex');
  if (!ChunkHash.is(hex)) throw new Error('not a hash');
  return hex;
};

describe('a file content hash', () => {
  it('is the server content hash of the same chunk list', () => {
    const chunks = ['a', 'b', 'a', 'c'].map((seed, k) => ({ hash: hashOf(seed), size: (k + 1) as NonNegativeInt }));
    expect(contentHash(chunks)).toBe(contentHashOf(chunks));
  });

  it('depends on the order of the chunks', () => {
    const [a, b] = [hashOf('a'), hashOf('b')];
    expect(contentHash([{ hash: a }, { hash: b }])).not.toBe(contentHash([{ hash: b }, { hash: a }]));
  });

  it('is the SHA-256 of nothing for an empty file', () => {
    expect(contentHash([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('a new version described with the chunks of the previous one', () => {
  const MiB = 1024 * 1024;
  const SMALL: ChunkingParams = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
  const TINY: ChunkingParams = { minSize: 64, avgSize: 256, maxSize: 1024 };

  /** A source over bytes in memory, answering at most maxRead bytes a read (as a file may). */
  const sourceOf = (bytes: Uint8Array, maxRead = Number.MAX_SAFE_INTEGER): ByteSource => ({
    size: bytes.length,
    read: async (buffer, offset, length, position) => {
      const n = Math.max(0, Math.min(length, maxRead, bytes.length - position));
      buffer.set(bytes.subarray(position, position + n), offset);
      return n;
    },
  });

  /** What describeFile answers: the whole input cut in memory, each slice hashed on its own. */
  const fromScratch = (bytes: Uint8Array, params: ChunkingParams) =>
    cutPoints(bytes, params).map((end, k, cuts) => {
      const offset = k === 0 ? 0 : (cuts[k - 1] as number);
      return { hash: crypto.createHash('sha256').update(bytes.subarray(offset, end)).digest('hex') as ChunkHash, size: (end - offset) as NonNegativeInt, offset: offset as NonNegativeInt };
    });

  type Edit = { kind: 'insert' | 'delete' | 'overwrite' | 'zeros' | 'copy'; at: number; length: number; seed: number };
  const applyEdit = (bytes: Uint8Array, e: Edit): Uint8Array => {
    const at = bytes.length === 0 ? 0 : e.at % (bytes.length + 1);
    const fresh = e.kind === 'zeros' ? new Uint8Array(e.length) : seededBytes(e.length, e.seed);
    switch (e.kind) {
      case 'insert':
      case 'zeros':
        return Buffer.concat([bytes.subarray(0, at), fresh, bytes.subarray(at)]);
      case 'delete':
        return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + e.length))]);
      case 'overwrite': {
        const out = Buffer.from(bytes);
        out.set(fresh.subarray(0, Math.max(0, bytes.length - at)), at);
        return out;
      }
      case 'copy': // a region of the file repeated elsewhere: the same chunk at several places
        return Buffer.concat([bytes.subarray(0, at), bytes.subarray(0, e.length), bytes.subarray(at)]);
    }
  };
  const edit = fc.record({
    kind: fc.constantFrom<Edit['kind']>('insert', 'delete', 'overwrite', 'zeros', 'copy'),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 5000 }),
    seed: fc.integer(),
  });

  it('is the description from scratch, whatever the edits, the previous chunks and the read sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer(),
        fc.array(edit, { maxLength: 6 }),
        fc.constantFrom(TINY, SMALL),
        fc.integer({ min: 1, max: 70_000 }),
        async (length, seed, edits, params, maxRead) => {
          const before = seededBytes(length, seed);
          const after = edits.reduce(applyEdit, before);
          const described = await describeReusing(sourceOf(after, maxRead), fromScratch(before, params), params);
          expect(described.chunks).toEqual(fromScratch(after, params));
          expect(described.size).toBe(after.length);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('is the description from scratch for inputs of megabytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 * MiB }), fc.integer(), fc.array(edit, { maxLength: 4 }), async (length, seed, edits) => {
        const before = seededBytes(length, seed);
        const after = edits.reduce(applyEdit, before);
        expect((await describeReusing(sourceOf(after), fromScratch(before, SMALL), SMALL)).chunks).toEqual(fromScratch(after, SMALL));
      }),
      { numRuns: 25 },
    );
  });

  it('is the description from scratch when the previous chunks belong to another file', async () => {
    const other = seededBytes(50_000, 3);
    const mine = Buffer.concat([seededBytes(20_000, 4), other.subarray(10_000, 30_000), new Uint8Array(40_000)]);
    for (const params of [TINY, SMALL]) {
      expect((await describeReusing(sourceOf(mine), fromScratch(other, params), params)).chunks).toEqual(fromScratch(mine, params));
      expect((await describeReusing(sourceOf(mine), [], params)).chunks).toEqual(fromScratch(mine, params));
      expect((await describeReusing(sourceOf(new Uint8Array(0)), fromScratch(other, params), params)).chunks).toEqual([]);
    }
  });

  it('scans only around the edits of a 24 MiB file, with the default sizes', async () => {
    const before = seededBytes(24 * MiB, 5);
    const previous = fromScratch(before, DEFAULT_CHUNKING);
    const inserted = Buffer.concat([Buffer.from([0x2a]), before]);
    const overwritten = Buffer.from(before);
    overwritten.set(seededBytes(4096, 6), 12 * MiB);
    const shortened = before.subarray(0, 20 * MiB + 77);
    for (const after of [before, inserted, overwritten, shortened]) {
      const described = await describeReusing(sourceOf(after, 3 * MiB + 5), previous);
      expect(described.chunks).toEqual(fromScratch(after, DEFAULT_CHUNKING));
      // A chunk or two around each edit, scanned; the rest only hashed.
      expect(described.scannedBytes).toBeLessThanOrEqual(2 * DEFAULT_CHUNKING.maxSize);
    }
    expect((await describeReusing(sourceOf(before), previous)).scannedBytes).toBe(0);
  });

  it('fails when the source ends before its size', async () => {
    const bytes = seededBytes(100_000, 8);
    const shrunk: ByteSource = { ...sourceOf(bytes.subarray(0, 50_000)), size: bytes.length };
    await expect(describeReusing(shrunk, fromScratch(bytes, TINY), TINY)).rejects.toThrow(/shorter/);
  });
});
