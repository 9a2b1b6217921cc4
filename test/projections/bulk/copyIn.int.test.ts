import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryRows } from '../../../src/projections/bulk/binaryRows.js';
import { copyInBinary } from '../../../src/projections/bulk/copyIn.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';

describe('binary COPY into Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    await db.pool.query('CREATE TABLE typed (id int4, at timestamptz, n int8, b boolean, s text, j jsonb)');
  });
  afterAll(async () => db?.drop());

  it('stores every value as Postgres reads the same value written as text', async () => {
    const value = fc.record({
      at: fc
        .tuple(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 6 }))
        .map(([d, micro, digits]) => {
          const iso = d.toISOString();
          const frac = `${iso.slice(20, 23)}${String(micro).padStart(3, '0')}`.slice(0, digits);
          return digits === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${frac}Z`;
        }),
      n: fc.maxSafeInteger().filter((n) => n >= -(2 ** 53 - 1)),
      b: fc.boolean(),
      s: fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0')), { nil: null }),
      j: fc.array(fc.record({ hash: fc.string({ maxLength: 10 }).filter((s) => !s.includes('\0')), size: fc.nat() }), { maxLength: 3 }),
    });
    const values = fc.sample(value, { numRuns: 300, seed: 7 });
    const w = new BinaryRows(64);
    values.forEach((v, id) => w.row(6).int4(id).timestamptz(v.at).int8(v.n).bool(v.b).textOrNull(v.s).jsonb(JSON.stringify(v.j)));
    const client = await db.pool.connect();
    try {
      expect(await copyInBinary(client, 'COPY typed (id, at, n, b, s, j) FROM STDIN WITH (FORMAT binary)', [w.take()])).toBe(values.length);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query<{ id: number; same: boolean }>(
      `SELECT t.id, (t.at = v.at::timestamptz AND t.n = v.n::int8 AND t.b = v.b::boolean AND t.s IS NOT DISTINCT FROM v.s AND t.j = v.j::jsonb) AS same
       FROM typed t JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS v(at, n, b, s, j, ord) ON t.id = v.ord - 1
       ORDER BY t.id`,
      [values.map((v) => v.at), values.map((v) => String(v.n)), values.map((v) => String(v.b)), values.map((v) => v.s), values.map((v) => JSON.stringify(v.j))],
    );
    expect(rows).toHaveLength(values.length);
    expect(rows.filter((r) => !r.same)).toEqual([]);
  });
});
