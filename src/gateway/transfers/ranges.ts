import type { ChunkHash } from '../../domain/ids.js';
import type { ByteRange } from '../../storage/blobs/port.js';

/** What a Range header asks of a representation of `size` bytes (RFC 9110 section 14). */
export type RangeAnswer =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = { kind: 'whole' };

/**
 * One range is served as a 206; a header that is absent, malformed, of another unit, or asks for
 * several ranges is ignored (the whole body, 200), as the RFC allows. If-Range that does not match
 * the current ETag also means the whole body.
 */
export const rangeOf = (header: string | undefined, size: number, ifRange?: string, etag?: string): RangeAnswer => {
  if (header === undefined) return WHOLE;
  if (ifRange !== undefined && ifRange !== etag) return WHOLE;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return WHOLE;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return WHOLE;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return WHOLE;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
};

/** A piece of one chunk, `length` bytes long: range undefined means the whole chunk. */
export interface Segment {
  readonly hash: ChunkHash;
  readonly range: ByteRange | undefined;
  readonly length: number;
}

/** The chunk pieces that make up bytes start..end (inclusive) of a file made of chunks, in order. */
export const segmentsOf = (chunks: readonly { readonly hash: ChunkHash; readonly size: number }[], start: number, end: number): Segment[] => {
  const segments: Segment[] = [];
  let offset = 0;
  for (const chunk of chunks) {
    const chunkStart = offset;
    const chunkEnd = offset + chunk.size - 1;
    offset += chunk.size;
    if (chunkEnd < start) continue;
    if (chunkStart > end) break;
    const from = Math.max(start, chunkStart) - chunkStart;
    const to = Math.min(end, chunkEnd) - chunkStart;
    segments.push({ hash: chunk.hash, range: from === 0 && to === chunk.size - 1 ? undefined : { start: from, end: to }, length: to - from + 1 });
  }
  return segments;
};
