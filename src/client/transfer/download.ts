import crypto from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ChunkHash, NonNegativeInt } from '../../domain/ids.js';
import type { FileChunk } from '../chunking/hashChunks.js';
import { statOf } from '../local/scan.js';
import type { LocalStat, RemoteVersion } from '../state/model.js';
import { absPath, type SyncContext, type TransferProgress } from '../sync/context.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { BlockPool } from '../../fs/blockPool.js';

const SMALL_FILE = 1024 * 1024;

export const sha256 = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');

/** A chunk whose bytes did not hash to its name: a server or transport fault, never written into a file. */
export class CorruptChunk extends Error {
  override readonly name = 'CorruptChunk';
}

export const withOffsets = (chunks: RemoteVersion['chunks']): FileChunk[] => {
  let offset = 0;
  return chunks.map((c) => {
    const placed = { hash: c.hash as ChunkHash, size: c.size as NonNegativeInt, offset: offset as NonNegativeInt };
    offset += c.size;
    return placed;
  });
};

// Ranges up to this size are read with synchronous calls: a few microseconds each for a small
// chunk, where the promise API's open, read and close are three thread-pool round trips (~100 us of
// the event loop per chunk, measured on a push of 10,000 small files, and a wait behind whatever
// else the pool is doing).
const SYNC_READ_BYTES = 64 * 1024;

const readRangeNow = (file: string, offset: number, size: number): Buffer | null => {
  let fd: number;
  try {
    fd = fsSync.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (let got = 0; got < size; ) {
      const bytesRead = fsSync.readSync(fd, buffer, got, size - got, offset + got);
      if (bytesRead === 0) return null;
      got += bytesRead;
    }
    return buffer;
  } finally {
    fsSync.closeSync(fd);
  }
};

/** Reads size bytes at offset of file; null when the file is gone or shorter. */
export const readRange = async (file: string, offset: number, size: number): Promise<Buffer | null> => {
  if (size <= SYNC_READ_BYTES) return readRangeNow(file, offset, size);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buffer, got, size - got, offset + got);
      if (bytesRead === 0) return null;
      got += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
};

/** The chunk's bytes from some synced local file holding it, checked against its SHA-256; null if none has them any more. */
export const localCopy = async (ctx: SyncContext, hash: string): Promise<Buffer | null> => {
  for (const place of ctx.state.chunks.locate(hash)) {
    const bytes = await readRange(absPath(ctx, place.path), place.offset, place.size);
    if (bytes !== null && sha256(bytes) === hash) return bytes;
  }
  return null;
};

const writeAll = async (handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<void> => {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
};

/** Streams the whole version (one request), checking each chunk's SHA-256 as its last byte passes. */
const streamContent = async (ctx: SyncContext, fileId: string, version: RemoteVersion, chunks: readonly FileChunk[], handle: fs.FileHandle, progress: TransferProgress) => {
  const res = await ctx.api.content(fileId, version.versionId);
  if (res.body === null) throw new CorruptChunk(`no body for ${fileId}`);
  let index = 0;
  let hash = crypto.createHash('sha256');
  let leftInChunk = chunks[0]?.size ?? 0;
  let position = 0;
  for await (const piece of res.body as AsyncIterable<Uint8Array>) {
    for (let at = 0; at < piece.length; ) {
      const chunk = chunks[index];
      if (chunk === undefined) throw new CorruptChunk(`more bytes than the ${version.size} of version ${version.versionId}`);
      const take = Math.min(leftInChunk, piece.length - at);
      const part = piece.subarray(at, at + take);
      hash.update(part);
      await writeAll(handle, part, position);
      position += take;
      at += take;
      leftInChunk -= take;
      if (leftInChunk === 0) {
        if (hash.digest('hex') !== chunk.hash) throw new CorruptChunk(`chunk ${chunk.hash} of ${fileId} arrived damaged`);
        progress.advance(chunk.size);
        index++;
        hash = crypto.createHash('sha256');
        leftInChunk = chunks[index]?.size ?? 0;
      }
    }
  }
  if (index !== chunks.length) throw new CorruptChunk(`version ${version.versionId} of ${fileId} arrived ${version.size - position} bytes short`);
};

// Local chunks are read in runs of up to this many bytes (whole chunks, consecutive in their
// source file and in the version), a few runs in flight: one run's read and write overlap another's
// hashing, and a 100 MiB file takes a dozen reads rather than a hundred opens and reads.
const RUN_BYTES = 8 * 1024 * 1024;
const RUNS_IN_FLIGHT = 3;
// The temp file's pages are handed to the disk every so many bytes written (one flush at a time),
// while the rest is still being read and verified: the final fsync is then left with the tail only.
// On a 100 MiB rebuild it saves ~60 ms of ~600; 4 and 16 MiB measure alike.
const FLUSH_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Positional writes into a temp file, with an fdatasync started in the background every
 * FLUSH_EVERY_BYTES; finish() waits for them, sets the length and fsyncs. The last fsync is what
 * makes the file durable; the earlier ones start the disk sooner, and one that fails fails the
 * file (Linux reports a write-back error once: the final fsync would not see it again).
 */
class TempWriter {
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private failure: { readonly error: unknown } | null = null;

  constructor(private readonly handle: fs.FileHandle) {}

  async write(bytes: Uint8Array, position: number): Promise<void> {
    await writeAll(this.handle, bytes, position);
    this.unflushed += bytes.length;
    if (this.unflushed >= FLUSH_EVERY_BYTES && this.flushing === null) {
      this.unflushed = 0;
      const flushing: Promise<void> = this.handle.datasync().then(
        () => {
          if (this.flushing === flushing) this.flushing = null;
        },
        (error: unknown) => {
          this.failure ??= { error };
          if (this.flushing === flushing) this.flushing = null;
        },
      );
      this.flushing = flushing;
    }
  }

  /** Waits for the background flush under way, if any. */
  async settle(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  async finish(size: number): Promise<LocalStat> {
    await this.settle();
    if (this.failure !== null) throw this.failure.error;
    await this.handle.truncate(size);
    await this.handle.sync();
    return statOf(await this.handle.stat());
  }
}

/** Chunks of the version to copy from one local file, consecutive there and in the version. */
interface LocalRun {
  readonly path: string;
  /** Where the first chunk starts in the local file. */
  readonly from: number;
  readonly chunks: FileChunk[];
  bytes: number;
}

/** The held chunks (in version order) cut into runs, each from the first local place of its chunks; those without one aside. */
const localRuns = (ctx: SyncContext, held: readonly FileChunk[]): { runs: LocalRun[]; unplaced: FileChunk[] } => {
  const runs: LocalRun[] = [];
  const unplaced: FileChunk[] = [];
  let run: LocalRun | null = null;
  let last: FileChunk | null = null;
  for (const chunk of held) {
    const place = ctx.state.chunks.locate(chunk.hash)[0];
    if (place === undefined) {
      unplaced.push(chunk);
      continue;
    }
    const follows =
      run !== null && last !== null && run.path === place.path && place.offset === run.from + run.bytes && chunk.offset === last.offset + last.size && run.bytes + chunk.size <= RUN_BYTES;
    if (!follows || run === null) {
      run = { path: place.path, from: place.offset, chunks: [], bytes: 0 };
      runs.push(run);
    }
    run.chunks.push(chunk);
    run.bytes += chunk.size;
    last = chunk;
  }
  return { runs, unplaced };
};

/** Reads up to size bytes at offset into buffer; answers the bytes read (fewer at the end of the file). */
const readUpTo = async (handle: fs.FileHandle, offset: number, size: number, buffer: Buffer): Promise<Buffer> => {
  let got = 0;
  while (got < size) {
    const { bytesRead } = await handle.read(buffer, got, size - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
};

/**
 * Copies the chunks held in local synced files into the temp file, each checked against its SHA-256
 * before it is written. Answers the chunks none of their local places holds any more.
 */
const copyLocal = async (ctx: SyncContext, held: readonly FileChunk[], out: TempWriter, progress: TransferProgress): Promise<FileChunk[]> => {
  const { runs, unplaced } = localRuns(ctx, held);
  const missed: FileChunk[] = [...unplaced];
  const handles = new Map<string, Promise<fs.FileHandle | null>>();
  const pool = new BlockPool(RUN_BYTES);
  const open = (rel: string) => {
    let handle = handles.get(rel);
    if (handle === undefined) handles.set(rel, (handle = fs.open(absPath(ctx, rel), 'r').catch(() => null)));
    return handle;
  };
  /** Writes the run's chunks that bytes (read from their local place) holds; the others from elsewhere. */
  const copyRun = async (run: LocalRun, bytes: Buffer): Promise<void> => {
    const good: { chunk: FileChunk; bytes: Buffer }[] = [];
    const bad: FileChunk[] = [];
    let at = 0;
    for (const chunk of run.chunks) {
      // Past the end of a short read (the file got shorter), a chunk is not there: bad.
      const piece = bytes.subarray(at, at + chunk.size);
      at += chunk.size;
      if (piece.length === chunk.size && sha256(piece) === chunk.hash) good.push({ chunk, bytes: piece });
      else bad.push(chunk);
    }
    // All of the run checked: one write, the run being consecutive in the version too.
    if (bad.length === 0 && run.chunks[0] !== undefined) await out.write(bytes, run.chunks[0].offset);
    else for (const g of good) await out.write(g.bytes, g.chunk.offset);
    progress.advance(run.bytes - bad.reduce((sum, c) => sum + c.size, 0));
    // Changed since it was recorded: any other local place of the chunk, else the server.
    for (const chunk of bad) {
      const copy = await localCopy(ctx, chunk.hash);
      if (copy === null || copy.length !== chunk.size) missed.push(chunk);
      else {
        await out.write(copy, chunk.offset);
        progress.advance(chunk.size);
      }
    }
  };
  try {
    // A run's block goes back to the pool once its bytes are written: the next run reads into it.
    await forEachLimit(runs, RUNS_IN_FLIGHT, async (run) => {
      const handle = await open(run.path);
      // A run is at most RUN_BYTES unless one chunk alone is larger (a server cutting larger chunks).
      const block = run.bytes <= pool.blockBytes ? pool.take() : Buffer.allocUnsafe(run.bytes);
      try {
        await copyRun(run, handle === null ? Buffer.alloc(0) : await readUpTo(handle, run.from, run.bytes, block));
      } finally {
        pool.give(block);
      }
    });
  } finally {
    for (const handle of handles.values()) await (await handle)?.close();
  }
  return missed;
};

/** Fetches these chunks of the version (each distinct one once, written at every offset it takes), checked against their SHA-256. */
const fetchChunks = async (
  ctx: SyncContext,
  fileId: string,
  urlsOf: () => Promise<Map<string, string>>,
  remote: readonly FileChunk[],
  out: TempWriter,
  progress: TransferProgress,
): Promise<void> => {
  if (remote.length === 0) return;
  const urls = await urlsOf();
  const offsets = new Map<string, FileChunk[]>();
  for (const chunk of remote) offsets.set(chunk.hash, [...(offsets.get(chunk.hash) ?? []), chunk]);
  const settled = await Promise.allSettled(
    [...offsets].map(([hash, places]) =>
      ctx.chunkSlot(async () => {
        const url = urls.get(hash);
        const size = places[0]?.size;
        if (url === undefined) throw new CorruptChunk(`no URL for chunk ${hash} of ${fileId}`);
        const bytes = await ctx.api.getChunk(url);
        if (bytes.length !== size || sha256(bytes) !== hash) throw new CorruptChunk(`chunk ${hash} of ${fileId} arrived damaged`);
        for (const place of places) {
          await out.write(bytes, place.offset);
          progress.advance(place.size);
        }
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
};

/**
 * Writes the version's bytes into temp, fsynced: chunks already held by a local synced file are
 * copied from it, the others fetched meanwhile; every chunk's SHA-256 is checked before it is
 * written. Answers the chunks with their offsets, and the stat of the file written.
 */
export const buildVersion = async (
  ctx: SyncContext,
  fileId: string,
  version: RemoteVersion,
  temp: string,
  progress: TransferProgress,
): Promise<{ chunks: FileChunk[]; stat: LocalStat }> => {
  const chunks = withOffsets(version.chunks);
  await fs.mkdir(path.dirname(temp), { recursive: true });
  const handle = await fs.open(temp, 'w', 0o644);
  const out = new TempWriter(handle);
  try {
    const held = chunks.filter((c) => ctx.state.chunks.has(c.hash));
    const remote = chunks.filter((c) => !ctx.state.chunks.has(c.hash));
    // Nothing of it here: the whole file in one request. Small files (most of a tree) go without a
    // chunk slot, the file concurrency bounds them; large ones take one like any chunk transfer.
    if (held.length === 0 && chunks.length > 0)
      await (version.size <= SMALL_FILE ? streamContent(ctx, fileId, version, chunks, handle, progress) : ctx.chunkSlot(() => streamContent(ctx, fileId, version, chunks, handle, progress)));
    else {
      // The download URLs asked once, when a chunk first has to be fetched.
      let urls: Promise<Map<string, string>> | null = null;
      const urlsOf = () => (urls ??= ctx.api.downloadRequest(fileId, version.versionId).then((a) => new Map(a.chunks.map((c) => [c.hash, c.url]))));
      // What no local file holds is fetched while the local chunks are copied.
      const [copied, fetched] = await Promise.allSettled([
        copyLocal(ctx, held, out, progress),
        fetchChunks(ctx, fileId, urlsOf, remote, out, progress),
      ]);
      if (fetched.status === 'rejected') throw fetched.reason;
      if (copied.status === 'rejected') throw copied.reason;
      await fetchChunks(ctx, fileId, urlsOf, copied.value, out, progress);
    }
    return { chunks, stat: await out.finish(version.size) };
  } finally {
    await out.settle();
    await handle.close();
  }
};
