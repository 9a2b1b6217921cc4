import crypto from 'node:crypto';
import fs from 'node:fs';
import { ChunkHash, type NonNegativeInt } from '../../domain/ids.js';
import { BlockPool } from '../../fs/blockPool.js';
import { chunkStream, DEFAULT_CHUNKING, knownChunkEndsAt, nextCut, type ChunkingParams } from './fastcdc.js';

/** One chunk of a file: what upload_request and commit take ({hash, size}), plus where it starts. */
export interface FileChunk {
  readonly hash: ChunkHash;
  readonly size: NonNegativeInt;
  readonly offset: NonNegativeInt;
}

export interface FileDescription {
  readonly size: NonNegativeInt;
  readonly chunks: readonly FileChunk[];
}

// Large reads keep most chunks inside one read (yielded as views, not copied) at the cost of one
// more MiB held next to the chunk in progress.
const READ_BYTES = 1024 * 1024;

const hexDigest = (hash: crypto.Hash): ChunkHash => {
  const digest = hash.digest('hex');
  if (!ChunkHash.is(digest)) throw new Error('unreachable: a SHA-256 hex digest is a ChunkHash');
  return digest;
};

/** Told each chunk as it is found, with its bytes (valid only during the call). */
export type OnChunk = (chunk: FileChunk, bytes: Uint8Array) => void;

/** Chunks and hashes a file in one streaming pass; memory stays near one chunk plus one read. */
export const describeFile = async (path: string, params: ChunkingParams = DEFAULT_CHUNKING, onChunk?: OnChunk): Promise<FileDescription> => {
  const chunks: FileChunk[] = [];
  let offset = 0;
  for await (const bytes of chunkStream(fs.createReadStream(path, { highWaterMark: READ_BYTES }), params)) {
    const chunk: FileChunk = { hash: hexDigest(crypto.createHash('sha256').update(bytes)), size: bytes.length as NonNegativeInt, offset: offset as NonNegativeInt };
    chunks.push(chunk);
    onChunk?.(chunk, bytes);
    offset += bytes.length;
  }
  return { size: offset as NonNegativeInt, chunks };
};

/** The file's content hash as the server computes it: SHA-256 over the raw chunk digests, in order. */
export const contentHash = (chunks: readonly { readonly hash: ChunkHash }[]): ChunkHash => {
  const hash = crypto.createHash('sha256');
  for (const chunk of chunks) hash.update(Buffer.from(chunk.hash, 'hex'));
  return hexDigest(hash);
};

/** Random-access bytes of known size: a file handle, or a buffer in tests. */
export interface ByteSource {
  readonly size: number;
  /** Reads up to length bytes at position into buffer at offset; answers how many (0 at the end). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
}

// Blocks read ahead of the chunk being described, one in flight while the current one is hashed.
const BLOCK_BYTES = 8 * 1024 * 1024;

/**
 * Reads a source front to back in blocks, one block ahead; views of any range not yet dropped.
 * Blocks dropped are read into again (see BlockPool): a view of a range is good until the next view.
 */
class AheadReader {
  private blocks: { at: number; bytes: Buffer; block: Buffer }[] = [];
  private loaded = 0;
  private ahead: Promise<{ bytes: Buffer; block: Buffer }> | null = null;
  private readonly pool = new BlockPool(BLOCK_BYTES);

  constructor(private readonly source: ByteSource) {}

  private readBlock(at: number): Promise<{ bytes: Buffer; block: Buffer }> {
    const length = Math.min(BLOCK_BYTES, this.source.size - at);
    const block = this.pool.take();
    const bytes = block.subarray(0, length);
    const fill = async () => {
      for (let got = 0; got < length; ) {
        const n = await this.source.read(bytes, got, length - got, at + got);
        if (n === 0) throw new Error('the file got shorter while it was being read');
        got += n;
      }
      return { bytes, block };
    };
    return fill();
  }

  /** Bytes [from, to) of the source (to at most its size); earlier bytes are dropped. */
  async view(from: number, to: number): Promise<Uint8Array> {
    for (let first = this.blocks[0]; first !== undefined && first.at + first.bytes.length <= from; first = this.blocks[0]) {
      this.blocks.shift();
      this.pool.give(first.block);
    }
    while (this.loaded < to) {
      const { bytes, block } = await (this.ahead ?? this.readBlock(this.loaded));
      this.blocks.push({ at: this.loaded, bytes, block });
      this.loaded += bytes.length;
      this.ahead = this.loaded < this.source.size ? this.readBlock(this.loaded) : null;
      // An unhandled rejection of a read nobody waits for yet would end the process.
      this.ahead?.catch(() => undefined);
    }
    const first = this.blocks[0];
    if (first !== undefined && to <= first.at + first.bytes.length) return first.bytes.subarray(from - first.at, to - first.at);
    const out = new Uint8Array(to - from);
    for (const { at, bytes } of this.blocks) {
      const a = Math.max(from, at);
      const b = Math.min(to, at + bytes.length);
      if (a < b) out.set(bytes.subarray(a - at, b - at), a - from);
    }
    return out;
  }

  /** Waits for the read still in flight, so that nothing reads the source after the caller is done. */
  async settle(): Promise<void> {
    await this.ahead?.catch(() => undefined);
  }
}

// After this many guesses in a row that proved wrong, only a chunk found again by its hash
// brings the guessing back: a file rewritten through costs at most these wasted hashes.
const WRONG_GUESSES = 2;

/**
 * The chunks of a new version of a file, given the chunks of its previous version as this
 * chunker cut them (same params; boundaries taken from anywhere else would not do): exactly what
 * describeFile answers, with most of the scanning skipped. Every byte is still read and hashed.
 *
 * From a cut, the next old chunk is guessed (the one after the last chunk found again, or the old
 * chunk at the same place counting from it): when the bytes there hash to it, they are that
 * chunk, which had no cut point inside, and knownChunkEndsAt settles its end from the byte after
 * it. Otherwise the chunk is found by scanning, and one whose hash is an old chunk's resumes the
 * guessing from there (after an insertion or a deletion, the cuts fall back in step within a
 * chunk or two).
 */
export const describeReusing = async (
  source: ByteSource,
  previous: readonly FileChunk[],
  params: ChunkingParams = DEFAULT_CHUNKING,
  onChunk?: OnChunk,
): Promise<FileDescription & { readonly scannedBytes: number }> => {
  const indexOfHash = new Map<string, number>();
  const indexAt = new Map<number, number>();
  previous.forEach((c, k) => {
    if (!indexOfHash.has(c.hash)) indexOfHash.set(c.hash, k);
    indexAt.set(c.offset, k);
  });
  const reader = new AheadReader(source);
  const { size } = source;
  const chunks: FileChunk[] = [];
  let guess: number | undefined = previous.length > 0 ? 0 : undefined;
  let shift = 0;
  let wrong = 0;
  let scannedBytes = 0;
  try {
    for (let at = 0; at < size; ) {
      let found: { size: number; hash: ChunkHash; bytes: Uint8Array } | null = null;
      let known: number | undefined;
      const old = guess === undefined ? undefined : previous[guess];
      if (old !== undefined && at + old.size <= size) {
        // The guess, and the byte after it (its end is a cut or not by that byte).
        const data = await reader.view(at, Math.min(size, at + old.size + 1));
        const inputEnds = at + data.length === size;
        const bytes = data.subarray(0, old.size);
        if (knownChunkEndsAt(data, 0, old.size, inputEnds, params) && hexDigest(crypto.createHash('sha256').update(bytes)) === old.hash) {
          found = { size: old.size, hash: old.hash, bytes };
          known = guess;
        }
      }
      if (found === null) {
        if (old !== undefined) wrong++;
        const data = await reader.view(at, Math.min(size, at + params.maxSize));
        const end = nextCut(data, 0, params);
        scannedBytes += end;
        const bytes = data.subarray(0, end);
        found = { size: end, hash: hexDigest(crypto.createHash('sha256').update(bytes)), bytes };
        known = indexOfHash.get(found.hash);
      }
      const chunk: FileChunk = { hash: found.hash, size: found.size as NonNegativeInt, offset: at as NonNegativeInt };
      chunks.push(chunk);
      onChunk?.(chunk, found.bytes);
      const match = known === undefined ? undefined : previous[known];
      if (known !== undefined && match !== undefined) {
        shift = at - match.offset;
        wrong = 0;
        guess = known + 1;
      } else guess = wrong < WRONG_GUESSES ? indexAt.get(at + found.size - shift) : undefined;
      at += found.size;
    }
  } finally {
    await reader.settle();
  }
  return { size: size as NonNegativeInt, chunks, scannedBytes };
};

/**
 * describeFile for a file whose previous version's chunks this device cut (see describeReusing).
 * The size is the file's when it is opened: a change while it is read is caught by the caller's
 * stat before and after, as with describeFile.
 */
export const describeFileReusing = async (
  path: string,
  previous: readonly FileChunk[],
  params: ChunkingParams = DEFAULT_CHUNKING,
  onChunk?: OnChunk,
): Promise<FileDescription> => {
  const handle = await fs.promises.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const source: ByteSource = { size, read: async (buffer, offset, length, position) => (await handle.read(buffer, offset, length, position)).bytesRead };
    return await describeReusing(source, previous, params, onChunk);
  } finally {
    await handle.close();
  }
};
