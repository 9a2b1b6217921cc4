/**
 * The body of the chunk batch calls (docs/api-extensions.md), `application/vnd.strata.chunks`: a
 * sequence of records, each the chunk's SHA-256 as 32 raw bytes, its length as a 4-byte big-endian
 * unsigned integer, then its bytes. Shared by the server and the client. A bespoke framing rather
 * than multipart: fixed-size headers need no boundary scan and no library on either side.
 */
export const CHUNK_RECORDS_TYPE = 'application/vnd.strata.chunks';
export const RECORD_HEADER_BYTES = 36;
/** Per request, both ways. */
export const MAX_RECORDS = 1024;
export const MAX_RECORDS_BYTES = 64 * 1024 * 1024;

export interface ChunkRecord {
  /** Lowercase hex SHA-256, as the record announces it (not yet checked against the bytes). */
  readonly hash: string;
  readonly bytes: Uint8Array;
}

export type RecordsProblem =
  | { readonly reason: 'truncated'; readonly index: number }
  | { readonly reason: 'empty_chunk'; readonly index: number }
  | { readonly reason: 'chunk_too_large'; readonly index: number; readonly size: number }
  | { readonly reason: 'too_many_records'; readonly limit: number };

const hex = (bytes: Uint8Array): string => {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
};

const unhex = (hash: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a lowercase hex SHA-256: ${hash}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hash.slice(2 * i, 2 * i + 2), 16);
  return out;
};

/** The header of one record; its bytes follow it. */
export const recordHeader = (hash: string, size: number): Uint8Array => {
  const header = new Uint8Array(RECORD_HEADER_BYTES);
  header.set(unhex(hash), 0);
  new DataView(header.buffer).setUint32(32, size, false);
  return header;
};

/** The pieces of a body holding these records (header, bytes, header, bytes, ...), to send as they are. */
export const encodeRecords = (records: readonly ChunkRecord[]): Uint8Array[] =>
  records.flatMap((r) => [recordHeader(r.hash, r.bytes.length), r.bytes]);

/** Total body length of records of these sizes. */
export const recordsLength = (sizes: readonly number[]): number => sizes.reduce((sum, s) => sum + RECORD_HEADER_BYTES + s, 0);

/**
 * The records of a whole body; views into it, not copies. A problem of framing (not of hashes:
 * the caller checks those) is answered instead.
 */
export const decodeRecords = (body: Uint8Array, maxChunkBytes: number): { records: ChunkRecord[] } | { problem: RecordsProblem } => {
  const records: ChunkRecord[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    const index = records.length;
    if (index >= MAX_RECORDS) return { problem: { reason: 'too_many_records', limit: MAX_RECORDS } };
    if (body.length - at < RECORD_HEADER_BYTES) return { problem: { reason: 'truncated', index } };
    const size = view.getUint32(at + 32, false);
    if (size === 0) return { problem: { reason: 'empty_chunk', index } };
    if (size > maxChunkBytes) return { problem: { reason: 'chunk_too_large', index, size } };
    const start = at + RECORD_HEADER_BYTES;
    if (body.length - start < size) return { problem: { reason: 'truncated', index } };
    records.push({ hash: hex(body.subarray(at, at + 32)), bytes: body.subarray(start, start + size) });
    at = start + size;
  }
  return { records };
};
