import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RECORD_HEADER_BYTES, decodeRecords, encodeRecords, recordsLength } from '../../src/protocol/chunkRecords.js';

const concat = (pieces: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const hashOf = (i: number) => i.toString(16).padStart(64, '0');

describe('chunk records', () => {
  it('decode to what was encoded, whatever the sizes, and take the length recordsLength says', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const records = chunks.map((bytes, i) => ({ hash: hashOf(i), bytes }));
        const body = concat(encodeRecords(records));
        expect(body.length).toBe(recordsLength(chunks.map((c) => c.length)));
        const decoded = decodeRecords(body, 1000);
        expect(decoded).toEqual({ records: records.map((r) => ({ hash: r.hash, bytes: r.bytes })) });
      }),
    );
  });

  it('name the record where a body stops short', () => {
    const body = concat(encodeRecords([{ hash: hashOf(1), bytes: new Uint8Array([1, 2, 3]) }, { hash: hashOf(2), bytes: new Uint8Array([4, 5]) }]));
    expect(decodeRecords(body.subarray(0, body.length - 1), 1000)).toEqual({ problem: { reason: 'truncated', index: 1 } });
    expect(decodeRecords(body.subarray(0, RECORD_HEADER_BYTES - 1), 1000)).toEqual({ problem: { reason: 'truncated', index: 0 } });
  });

  it('refuse empty and oversized chunks', () => {
    const empty = new Uint8Array(RECORD_HEADER_BYTES);
    expect(decodeRecords(empty, 1000)).toEqual({ problem: { reason: 'empty_chunk', index: 0 } });
    const big = concat(encodeRecords([{ hash: hashOf(1), bytes: new Uint8Array(1001) }]));
    expect(decodeRecords(big, 1000)).toEqual({ problem: { reason: 'chunk_too_large', index: 0, size: 1001 } });
  });

  it('refuse a hash that is not lowercase hex SHA-256 when encoding', () => {
    expect(() => encodeRecords([{ hash: 'ABC', bytes: new Uint8Array([1]) }])).toThrow(/not a lowercase hex/);
  });
});
