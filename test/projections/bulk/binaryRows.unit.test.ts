import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryRows, pgMicros } from '../../../src/projections/bulk/binaryRows.js';

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Reads back what BinaryRows wrote: per field, its bytes (null for NULL). */
const fieldsOf = (bytes: Uint8Array): (Buffer | null)[][] => {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: (Buffer | null)[][] = [];
  for (let at = 0; at < b.length; ) {
    const n = b.readInt16BE(at);
    at += 2;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < n; i++) {
      const len = b.readInt32BE(at);
      at += 4;
      row.push(len === -1 ? null : b.subarray(at, at + len));
      if (len > 0) at += len;
    }
    rows.push(row);
  }
  return rows;
};

describe('binary COPY rows', () => {
  it('timestamps count microseconds since 2000-01-01 UTC, all six fractional digits kept', () => {
    expect(pgMicros('2000-01-01T00:00:00Z')).toBe(0);
    expect(pgMicros('2000-01-01T00:00:00.000001Z')).toBe(1);
    expect(pgMicros('2000-01-01T00:00:01.5Z')).toBe(1_500_000);
    expect(pgMicros('1999-12-31T23:59:59.999999Z')).toBe(-1);
    expect(pgMicros('2026-11-22T10:11:12.345678Z')).toBe((Date.UTC(2026, 10, 22, 10, 11, 12, 345) - PG_EPOCH_MS) * 1000 + 678);
    expect(() => pgMicros('yesterday')).toThrow(RangeError);
  });

  it('timestamps with 0 to 6 fractional digits agree with the milliseconds Date gives', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 6 }), (d, micro, digits) => {
        const iso = d.toISOString();
        const frac = `${iso.slice(20, 23)}${String(micro).padStart(3, '0')}`.slice(0, digits);
        const text = digits === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${frac}Z`;
        const expected = (Date.parse(`${iso.slice(0, 19)}Z`) - PG_EPOCH_MS) * 1000 + Number(frac.padEnd(6, '0'));
        expect(pgMicros(text)).toBe(expected);
      }),
    );
  });

  it('writes each type as Postgres reads it: big-endian lengths and values, -1 for NULL, jsonb with its version byte', () => {
    const w = new BinaryRows(8); // tiny: every write grows the buffer
    w.row(8).text('ab').textOrNull(null).int8(2 ** 40 + 5).int8(-2).int4(-1).bool(true).jsonb('[1]').text('Zoë 📁 \\ \t');
    const [row] = fieldsOf(w.take());
    expect(row?.map((f) => f?.toString('hex') ?? null)).toEqual([
      Buffer.from('ab').toString('hex'),
      null,
      '0000010000000005',
      'fffffffffffffffe',
      'ffffffff',
      '01',
      `01${Buffer.from('[1]').toString('hex')}`,
      Buffer.from('Zoë 📁 \\ \t', 'utf8').toString('hex'),
    ]);
    expect(w.length).toBe(0);
  });

  it('any string comes back as its UTF-8 bytes, short or long', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 20 }), (strings) => {
        const w = new BinaryRows(16);
        for (const s of strings) w.row(1).text(s);
        expect(fieldsOf(w.take()).map(([f]) => f?.toString('utf8'))).toEqual(strings);
      }),
    );
  });

  it('refuses an integer it cannot represent exactly', () => {
    expect(() => new BinaryRows().int8(2 ** 53)).toThrow(RangeError);
  });
});
