import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ChunkHash, NonNegativeInt } from '../../domain/ids.js';
import type { FileChunk } from '../chunking/hashChunks.js';
import { statOf } from '../local/scan.js';
import type { LocalStat, RemoteVersion } from '../state/model.js';
import { absPath, type SyncContext, type TransferProgress } from '../sync/context.js';
import { forEachLimit } from '../../concurrency/limit.js';

const SMALL_FILE = 1024 * 1024;
const LOCAL_COPIES_IN_FLIGHT = 4;

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

/** Reads size bytes at offset of file; null when the file is gone or shorter. */
export const readRange = async (file: string, offset: number, size: number): Promise<Buffer | null> => {
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

/**
 * Writes the version's bytes into temp, fsynced: chunks already held by a local synced file are
 * copied from it, the others fetched; every chunk's SHA-256 is checked before it is written.
 * Answers the chunks with their offsets, and the stat of the file written.
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
  try {
    const remote: FileChunk[] = [];
    // Local copies a few at a time: one chunk's read and write overlap another's hashing.
    await forEachLimit(chunks, LOCAL_COPIES_IN_FLIGHT, async (chunk) => {
      const bytes = ctx.state.chunks.has(chunk.hash) ? await localCopy(ctx, chunk.hash) : null;
      if (bytes === null) remote.push(chunk);
      else {
        await writeAll(handle, bytes, chunk.offset);
        progress.advance(chunk.size);
      }
    });
    remote.sort((x, y) => x.offset - y.offset);
    // Nothing of it here: the whole file in one request. Small files (most of a tree) go without a
    // chunk slot, the file concurrency bounds them; large ones take one like any chunk transfer.
    if (remote.length > 0 && remote.length === chunks.length)
      await (version.size <= SMALL_FILE ? streamContent(ctx, fileId, version, chunks, handle, progress) : ctx.chunkSlot(() => streamContent(ctx, fileId, version, chunks, handle, progress)));
    else if (remote.length > 0) {
      const answer = await ctx.api.downloadRequest(fileId, version.versionId);
      const urls = new Map(answer.chunks.map((c) => [c.hash, c.url]));
      // One fetch per distinct chunk, written at every offset it takes in the file.
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
              await writeAll(handle, bytes, place.offset);
              progress.advance(place.size);
            }
          }),
        ),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
    await handle.truncate(version.size);
    await handle.sync();
    return { chunks, stat: statOf(await handle.stat()) };
  } finally {
    await handle.close();
  }
};
