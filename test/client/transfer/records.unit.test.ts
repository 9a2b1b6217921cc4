import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRecords, MalformedRecords, readRecords, RecordDecoder, type ChunkRecord } from '../../../src/client/transfer/records.js';
import * as shared from '../../../src/protocol/chunkRecords.js';

const recordOf = (bytes: Buffer): ChunkRecord => ({ hash: crypto.createHash('sha256').update(bytes).digest('hex'), bytes });
const plain = (records: readonly ChunkRecord[]) => records.map((r) => ({ hash: r.hash, bytes: Buffer.from(r.bytes).toString('hex') }));

const decodeRecords = (body: Uint8Array): ChunkRecord[] => {
  const decoder = new RecordDecoder();
  const records = decoder.push(body);
  decoder.end();
  return records;
};

const someRecords = (): ChunkRecord[] => [1, 36, 4096, 70_000, 3].map((size, k) => recordOf(crypto.randomBytes(size + k)));

async function* piecesOf(body: Buffer, cut: (at: number) => number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < body.length; ) {
    const next = Math.min(body.length, at + Math.max(1, cut(at)));
    yield body.subarray(at, next);
    at = next;
  }
}

describe('a body of chunk records', () => {
  it('is, per record, 32 raw hash bytes, a big-endian uint32 length, then the bytes', () => {
    const record = recordOf(Buffer.from('hello, strata\n'));
    const body = encodeRecords([record]);
    expect(body.length).toBe(32 + 4 + 14);
    expect(body.subarray(0, 32).toString('hex')).toBe(record.hash);
    expect(body.readUInt32BE(32)).toBe(14);
    expect(body.subarray(36).toString()).toBe('hello, strata\n');
  });

  it('decodes to the records encoded, in order', () => {
    const records = someRecords();
    expect(plain(decodeRecords(encodeRecords(records)))).toEqual(plain(records));
    expect(decodeRecords(Buffer.alloc(0))).toEqual([]);
  });

  it('is the body the server side of the format reads and writes', () => {
    const records = someRecords();
    const decoded = shared.decodeRecords(encodeRecords(records), 16 * 1024 * 1024);
    expect('records' in decoded && plain(decoded.records)).toEqual(plain(records));
    expect(plain(decodeRecords(Buffer.concat(shared.encodeRecords(records))))).toEqual(plain(records));
  });

  it('decodes the same however the stream cuts it', async () => {
    const records = someRecords();
    const body = encodeRecords(records);
    for (const cut of [() => 1, () => 7, () => 35, () => 36, () => 37, (at: number) => (at * 7919) % 5000, () => body.length]) {
      const got: ChunkRecord[] = [];
      for await (const r of readRecords(piecesOf(body, cut))) got.push(r);
      expect(plain(got)).toEqual(plain(records));
    }
  });

  it('yields each record as soon as its last byte is in', () => {
    const [first, second] = [recordOf(Buffer.from('first')), recordOf(Buffer.from('second'))];
    const body = encodeRecords([first, second]);
    const decoder = new RecordDecoder();
    expect(decoder.push(body.subarray(0, 36 + 4))).toEqual([]);
    expect(plain(decoder.push(body.subarray(40, 42)))).toEqual(plain([first]));
    expect(plain(decoder.push(body.subarray(42)))).toEqual(plain([second]));
    decoder.end();
  });

  it('answers a record whole within one piece as a view of that piece, one cut across pieces as a copy', () => {
    const [first, second] = [recordOf(Buffer.from('whole in the first piece')), recordOf(Buffer.from('cut across two pieces'))];
    const body = encodeRecords([first, second]);
    const cut = body.length - 5;
    const pieces = [new Uint8Array(body.subarray(0, cut)), new Uint8Array(body.subarray(cut))];
    const decoder = new RecordDecoder();
    const [whole] = decoder.push(pieces[0] as Uint8Array);
    const [across] = decoder.push(pieces[1] as Uint8Array);
    decoder.end();
    expect(plain([whole, across] as ChunkRecord[])).toEqual(plain([first, second]));
    expect(whole?.bytes.buffer).toBe((pieces[0] as Uint8Array).buffer);
    expect(across?.bytes.buffer).not.toBe((pieces[0] as Uint8Array).buffer);
    expect(across?.bytes.buffer).not.toBe((pieces[1] as Uint8Array).buffer);
  });

  it('is refused when it stops inside a record', () => {
    const body = encodeRecords(someRecords());
    expect(() => decodeRecords(body.subarray(0, body.length - 1))).toThrow(MalformedRecords);
    expect(() => decodeRecords(body.subarray(0, 20))).toThrow(MalformedRecords);
  });

  it('is refused with a length of 0 or over 16 MiB', () => {
    const header = Buffer.alloc(36);
    expect(() => decodeRecords(header)).toThrow(MalformedRecords);
    header.writeUInt32BE(16 * 1024 * 1024 + 1, 32);
    expect(() => new RecordDecoder().push(header)).toThrow(MalformedRecords);
    // The same, with the bytes the length announces all in the piece.
    const whole = Buffer.alloc(36 + 16 * 1024 * 1024 + 1);
    expect(() => decodeRecords(whole)).toThrow(MalformedRecords);
    whole.writeUInt32BE(16 * 1024 * 1024 + 1, 32);
    expect(() => decodeRecords(whole)).toThrow(MalformedRecords);
  });

  it('cannot be made of an empty chunk or a hash that is not hex SHA-256', () => {
    expect(() => encodeRecords([{ hash: 'ab'.repeat(32), bytes: new Uint8Array(0) }])).toThrow(MalformedRecords);
    expect(() => encodeRecords([{ hash: 'xyz', bytes: new Uint8Array(1) }])).toThrow(MalformedRecords);
  });
});
