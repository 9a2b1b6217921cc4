import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { RECORD_HEADER_BYTES, type ChunkRecord } from '../../protocol/chunkRecords.js';

/**
 * The device's side of the chunk records body (src/protocol/chunkRecords.ts holds the format and
 * its limits): one buffer to send, and records decoded as an answer streams in, so that a fetch of
 * many chunks does not wait for its last byte before the first file is written.
 */

export { CHUNK_RECORDS_TYPE, MAX_RECORDS, MAX_RECORDS_BYTES, type ChunkRecord } from '../../protocol/chunkRecords.js';

const HASH_BYTES = 32;
const HEX_HASH = /^[0-9a-f]{64}$/;

/** A body that is not a whole number of well-formed records. */
export class MalformedRecords extends Error {
  override readonly name = 'MalformedRecords';
}

/** The bytes a record of a chunk of this size takes in a body. */
export const recordBytes = (size: number): number => RECORD_HEADER_BYTES + size;

/** The body of these records, in this order, as one buffer (a request body). */
export const encodeRecords = (records: readonly ChunkRecord[]): Buffer => {
  let total = 0;
  for (const r of records) {
    if (!HEX_HASH.test(r.hash)) throw new MalformedRecords(`not a lowercase hex SHA-256: ${r.hash}`);
    if (r.bytes.length < 1 || r.bytes.length > MAX_CHUNK_BYTES) throw new MalformedRecords(`a chunk of ${r.bytes.length} bytes cannot be a record`);
    total += recordBytes(r.bytes.length);
  }
  const body = Buffer.allocUnsafe(total);
  let at = 0;
  for (const r of records) {
    at += body.write(r.hash, at, HASH_BYTES, 'hex');
    at = body.writeUInt32BE(r.bytes.length, at);
    body.set(r.bytes, at);
    at += r.bytes.length;
  }
  return body;
};

/**
 * Decodes records from pieces of a body cut anywhere (network reads): push each piece, take the
 * records it completed, and call end() once the body is over. A record that lies whole within one
 * piece is answered as a view of that piece, not a copy (a piece holds several small chunks, and a
 * copy of each was an allocation per chunk for the collector to clear): a piece pushed must not
 * be written to afterwards.
 */
export class RecordDecoder {
  private readonly header = Buffer.alloc(RECORD_HEADER_BYTES);
  private headerFill = 0;
  private hash = '';
  private body: Buffer | null = null;
  private bodyFill = 0;

  push(piece: Uint8Array): ChunkRecord[] {
    const done: ChunkRecord[] = [];
    const view = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let at = 0; at < view.length; ) {
      if (this.body === null && this.headerFill === 0 && view.length - at >= RECORD_HEADER_BYTES) {
        const size = view.readUInt32BE(at + HASH_BYTES);
        const start = at + RECORD_HEADER_BYTES;
        if (size >= 1 && size <= MAX_CHUNK_BYTES && size <= view.length - start) {
          done.push({ hash: view.toString('hex', at, at + HASH_BYTES), bytes: view.subarray(start, start + size) });
          at = start + size;
          continue;
        }
      }
      if (this.body === null) {
        const take = Math.min(RECORD_HEADER_BYTES - this.headerFill, view.length - at);
        this.header.set(view.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill < RECORD_HEADER_BYTES) break;
        const size = this.header.readUInt32BE(HASH_BYTES);
        if (size < 1 || size > MAX_CHUNK_BYTES) throw new MalformedRecords(`a record of ${size} bytes (1 byte to ${MAX_CHUNK_BYTES} expected)`);
        this.hash = this.header.toString('hex', 0, HASH_BYTES);
        this.body = Buffer.allocUnsafe(size);
        this.bodyFill = 0;
        this.headerFill = 0;
        continue;
      }
      const take = Math.min(this.body.length - this.bodyFill, view.length - at);
      this.body.set(view.subarray(at, at + take), this.bodyFill);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill === this.body.length) {
        done.push({ hash: this.hash, bytes: this.body });
        this.body = null;
      }
    }
    return done;
  }

  /** Throws when the body stopped inside a record. */
  end(): void {
    if (this.headerFill > 0 || this.body !== null) throw new MalformedRecords('the body ends inside a record');
  }
}

/** The records of a body as it streams in, each as soon as its last byte arrived. */
export async function* readRecords(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<ChunkRecord> {
  const decoder = new RecordDecoder();
  for await (const piece of pieces) yield* decoder.push(piece);
  decoder.end();
}
