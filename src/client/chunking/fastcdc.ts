import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';

// FastCDC (Xia et al., USENIX ATC 2016): gear hash, cut-point skipping below minSize, normalized
// chunking (a harder mask before avgSize, an easier one after it), a forced cut at maxSize.
// Hand-written: npm has no pure-JS FastCDC (fastcdc-wasm, @dstanesc/wasm-chunking-fastcdc-node: single-release WASM wrappers; @ronomon/deduplication: native build).

/**
 * Chunk sizes in bytes: avgSize a power of two, minSize <= avgSize <= maxSize <= 16 MiB. On random
 * data the mean chunk comes out ~1.13-1.15 x avgSize, as in the paper: skipping adds minSize first.
 */
export interface ChunkingParams {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
}

/** What every Strata client chunks with: changing any of these moves every boundary of every file. */
export const DEFAULT_CHUNKING: ChunkingParams = { minSize: 256 * 1024, avgSize: 1024 * 1024, maxSize: 4 * 1024 * 1024 };

// The paper's NC-2: MaskS has two bits more than log2(avgSize), MaskL two bits fewer.
const NORMALIZATION_LEVEL = 2;

// Fixed seed ("STRA"): boundaries must match on every device and in every release, so neither the
// seed nor the generator below may ever change.
const GEAR_SEED = 0x53545241;

/** 256 random-looking int32s: a Weyl sequence through Wellons' lowbias32 finalizer. */
const gearTable = (seed: number): Int32Array => {
  const table = new Int32Array(256);
  let state = seed | 0;
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
    z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
    table[i] = z ^ (z >>> 16);
  }
  return table;
};

const GEAR = gearTable(GEAR_SEED);

interface Chunker {
  readonly minSize: number;
  readonly normalSize: number;
  readonly maxSize: number;
  readonly maskS: number;
  readonly maskL: number;
}

// The masks take the top bits of the 32-bit fingerprint: bit k depends on the last k+1 bytes, so
// the top bits see the widest window (32 bytes) a 32-bit gear hash has.
const topBits = (n: number): number => (0xffffffff << (32 - n)) | 0;

const chunkerFor = (p: ChunkingParams): Chunker => {
  const { minSize, avgSize, maxSize } = p;
  const bits = Math.log2(avgSize);
  if (![minSize, avgSize, maxSize].every(Number.isSafeInteger) || !Number.isInteger(bits))
    throw new RangeError(`chunk sizes must be integers and avgSize a power of two, got ${JSON.stringify(p)}`);
  if (bits - NORMALIZATION_LEVEL < 1 || bits + NORMALIZATION_LEVEL > 31)
    throw new RangeError(`avgSize must be between 8 bytes and 512 MiB, got ${avgSize}`);
  if (!(minSize >= 1 && minSize <= avgSize && avgSize <= maxSize && maxSize <= MAX_CHUNK_BYTES))
    throw new RangeError(`need 1 <= minSize <= avgSize <= maxSize <= ${MAX_CHUNK_BYTES}, got ${JSON.stringify(p)}`);
  return { minSize, normalSize: avgSize, maxSize, maskS: topBits(bits + NORMALIZATION_LEVEL), maskL: topBits(bits - NORMALIZATION_LEVEL) };
};

/** Where the chunk being scanned stands: bytes of it already seen, and the fingerprint so far. */
interface ScanState {
  pos: number;
  fp: number;
}

/**
 * Rolls state.fp over data[i, stop). Returns the index of the first byte after which fp & mask is
 * 0, or stop. Unrolled by four: in V8 the loop test costs about as much as the hash itself.
 */
const roll = (data: Uint8Array, i: number, stop: number, mask: number, state: ScanState): number => {
  let fp = state.fp;
  for (const stop4 = stop - 3; i < stop4; i += 4) {
    fp = ((fp << 1) + (GEAR[data[i] as number] as number)) | 0;
    if ((fp & mask) === 0) return i;
    fp = ((fp << 1) + (GEAR[data[i + 1] as number] as number)) | 0;
    if ((fp & mask) === 0) return i + 1;
    fp = ((fp << 1) + (GEAR[data[i + 2] as number] as number)) | 0;
    if ((fp & mask) === 0) return i + 2;
    fp = ((fp << 1) + (GEAR[data[i + 3] as number] as number)) | 0;
    if ((fp & mask) === 0) return i + 3;
  }
  for (; i < stop; i++) {
    fp = ((fp << 1) + (GEAR[data[i] as number] as number)) | 0;
    if ((fp & mask) === 0) return i;
  }
  state.fp = fp;
  return stop;
};

const cutAt = (i: number, state: ScanState): number => {
  state.pos = 0;
  state.fp = 0;
  return i;
};

/**
 * Scans data[from, end) as the continuation of the chunk in `state`. Returns the index in data at
 * which that chunk ends (and resets state for the next one), or -1 when it goes on past `end`.
 * As in the paper, the chunk ends before the byte whose fingerprint matched. A cut depends only
 * on the bytes before it, never on `end`: that is what lets the stream and the whole-buffer paths
 * agree whatever the read sizes.
 */
const scan = (c: Chunker, data: Uint8Array, from: number, end: number, state: ScanState): number => {
  const start = from - state.pos; // index in data where the chunk began (negative when it began in an earlier read)
  let i = Math.min(end, Math.max(from, start + c.minSize));
  const normalEnd = Math.min(end, start + c.normalSize);
  if (i < normalEnd) {
    i = roll(data, i, normalEnd, c.maskS, state);
    if (i < normalEnd) return cutAt(i, state);
  }
  const maxEnd = Math.min(end, start + c.maxSize);
  if (i < maxEnd) {
    i = roll(data, i, maxEnd, c.maskL, state);
    if (i < maxEnd) return cutAt(i, state);
  }
  if (i === start + c.maxSize) return cutAt(i, state);
  state.pos = end - start;
  return -1;
};

/** The end offset of every chunk of data, in order; the last is data.length (none for empty data). */
export const cutPoints = (data: Uint8Array, params: ChunkingParams = DEFAULT_CHUNKING): number[] => {
  const chunker = chunkerFor(params);
  const state: ScanState = { pos: 0, fp: 0 };
  const cuts: number[] = [];
  for (let from = 0; from < data.length; ) {
    const cut = scan(chunker, data, from, data.length, state);
    from = cut === -1 ? data.length : cut;
    cuts.push(from);
  }
  return cuts;
};

const join = (held: readonly Uint8Array[], tail: Uint8Array): Uint8Array => {
  if (held.length === 0) return tail;
  let size = tail.length;
  for (const part of held) size += part.length;
  const chunk = new Uint8Array(size);
  let at = 0;
  for (const part of held) {
    chunk.set(part, at);
    at += part.length;
  }
  chunk.set(tail, at);
  return chunk;
};

/**
 * Chunks a byte stream with exactly the boundaries cutPoints gives for the concatenated input,
 * whatever the read sizes. Holds the chunk in progress (under maxSize, as views of the reads it
 * spans) and the current read. A chunk inside one read is yielded as a view of it, so the source
 * must not reuse a buffer after yielding it (Node's streams never do); a chunk spanning reads is
 * copied once.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  params: ChunkingParams = DEFAULT_CHUNKING,
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunker = chunkerFor(params);
  const state: ScanState = { pos: 0, fp: 0 };
  let held: Uint8Array[] = [];
  for await (const read of source) {
    for (let from = 0; from < read.length; ) {
      const cut = scan(chunker, read, from, read.length, state);
      if (cut === -1) {
        held.push(from === 0 ? read : read.subarray(from));
        break;
      }
      yield join(held, read.subarray(from, cut));
      held = [];
      from = cut;
    }
  }
  if (held.length > 0) yield join(held, new Uint8Array(0));
}

/**
 * The chunk that begins at start when a chunk begins there, found by scanning (at most maxSize
 * bytes of data from start): its end offset in data. data must hold maxSize bytes from start, or
 * run to the end of the input.
 */
export const nextCut = (data: Uint8Array, start: number, params: ChunkingParams = DEFAULT_CHUNKING): number => {
  const end = Math.min(data.length, start + params.maxSize);
  const cut = scan(chunkerFor(params), data, start, end, { pos: 0, fp: 0 });
  return cut === -1 ? end : cut;
};

/**
 * Whether data[start, start + size) is the chunk that begins at start (a chunk begins there),
 * given that these bytes are those of a chunk this chunker cut before with the same params: what
 * the scan would find without scanning. Every fingerprint inside such a chunk depends on its own
 * bytes only (the state resets at each cut), so none of them matched before and none matches now;
 * what remains is its end, a cut when it is the maximum size, the end of the input (inputEnds:
 * data ends where the input does), or when the fingerprint of the byte after it (over that byte
 * and the 31 before it, all of the chunk's but that byte) matches the mask in force at that offset.
 */
export const knownChunkEndsAt = (data: Uint8Array, start: number, size: number, inputEnds: boolean, params: ChunkingParams = DEFAULT_CHUNKING): boolean => {
  const c = chunkerFor(params);
  const end = start + size;
  if (size < 1 || size > c.maxSize || end > data.length) return false;
  if (size === c.maxSize) return true;
  if (end === data.length) return inputEnds;
  if (size < c.minSize) return false;
  let fp = 0;
  for (let i = Math.max(start + c.minSize, end - 31); i <= end; i++) fp = ((fp << 1) + (GEAR[data[i] as number] as number)) | 0;
  return (fp & (size < c.normalSize ? c.maskS : c.maskL)) === 0;
};
