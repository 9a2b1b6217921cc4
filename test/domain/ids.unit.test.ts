import { describe, expect, it } from 'vitest';
import { ChunkHash, IsoTimestamp } from '../../src/domain/ids.js';

describe('timestamps in events and requests (IsoTimestamp)', () => {
  it.each(['2026-11-22T10:00:00Z', '2026-11-22T10:00:00.1Z', '2026-11-22T10:00:00.123456Z', '2024-02-29T00:00:00.000Z', '2000-02-29T23:59:59.999Z'])(
    'takes %s',
    (s) => expect(IsoTimestamp.is(s)).toBe(true),
  );

  it.each([
    ['a day its month does not have', '2026-02-31T00:00:00.000Z'],
    ['29 February of a common year', '2026-02-29T00:00:00.000Z'],
    ['29 February of a century that is not a leap year', '1900-02-29T00:00:00.000Z'],
    ['31 April', '2026-04-31T00:00:00.000Z'],
    ['month 13', '2026-13-01T00:00:00.000Z'],
    ['day 32', '2026-01-32T00:00:00.000Z'],
    ['an offset other than Z', '2026-11-22T10:00:00+01:00'],
    ['seven fractional digits', '2026-11-22T10:00:00.1234567Z'],
    ['a date alone', '2026-11-22'],
  ])('refuses %s', (_, s) => expect(IsoTimestamp.is(s)).toBe(false));
});

describe('chunk hashes (ChunkHash)', () => {
  it('are 64 lowercase hex digits', () => {
    expect(ChunkHash.is('a'.repeat(64))).toBe(true);
    expect(ChunkHash.is('0123456789abcdef'.repeat(4))).toBe(true);
    for (const s of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(63)}g`, ''])
      expect(ChunkHash.is(s)).toBe(false);
  });
});
