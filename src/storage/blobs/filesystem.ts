import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash } from '../../domain/ids.js';
import { assertByteRange, assertChunkHash, drainHashed, judge } from './body.js';
import type { BlobBody, BlobStore, ByteRange, ChunkStat, PutOptions, PutResult, StoredChunk } from './port.js';

export interface FilesystemBlobStoreOptions {
  readonly root: string;
  /**
   * Temp files untouched for this long are leftovers of a crash and are removed at start. Younger
   * ones may belong to another process sharing the root (a CLI command next to the server).
   */
  readonly staleTempMs?: number;
}

const hasCode = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code;

const orNullIfMissing = async <T>(work: Promise<T>): Promise<T | null> => {
  try {
    return await work;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return null;
    throw error;
  }
};

/** A rename or link is only durable once the directory holding the new entry is fsynced. */
const fsyncDir = async (dir: string): Promise<void> => {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/** mkdir -p, then fsync the parents of whatever it created so the new directories survive a crash. */
const ensureDurableDir = async (dir: string): Promise<void> => {
  const firstCreated = await fs.mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  for (let created = dir; ; created = path.dirname(created)) {
    await fsyncDir(path.dirname(created));
    if (created === firstCreated) return;
  }
};

const writeAll = async (file: fs.FileHandle, piece: Uint8Array): Promise<void> => {
  for (let offset = 0; offset < piece.byteLength; ) offset += (await file.write(piece, offset)).bytesWritten;
};

const removeStaleTemps = async (tmpDir: string, staleTempMs: number): Promise<void> => {
  const cutoff = Date.now() - staleTempMs;
  for (const name of await fs.readdir(tmpDir)) {
    const file = path.join(tmpDir, name);
    const info = await orNullIfMissing(fs.lstat(file));
    if (info !== null && info.mtimeMs < cutoff) await fs.rm(file, { force: true, recursive: true });
  }
};

/**
 * Chunks live at root/chunks/ab/cd/<hash>. A put writes root/tmp/<hash>.<random>, fsyncs it and
 * hard-links it into place: link is atomic and refuses to replace, so a crash never leaves a partial
 * chunk under its hash and concurrent puts of one chunk learn exactly which of them created it.
 * root must be on a local POSIX filesystem (hard links, fsync on directories).
 */
export const createFilesystemBlobStore = async (options: FilesystemBlobStoreOptions): Promise<BlobStore> => {
  const chunksDir = path.join(options.root, 'chunks');
  const tmpDir = path.join(options.root, 'tmp');
  await ensureDurableDir(chunksDir);
  await ensureDurableDir(tmpDir);
  await removeStaleTemps(tmpDir, options.staleTempMs ?? 15 * 60_000);

  const dirOf = (hash: string): string => path.join(chunksDir, hash.slice(0, 2), hash.slice(2, 4));
  const pathOf = (hash: string): string => {
    assertChunkHash(hash);
    return path.join(dirOf(hash), hash);
  };

  /** Links the verified temp file in as the chunk; false when it was already there. */
  const publish = async (hash: ChunkHash, tempPath: string): Promise<boolean> => {
    const dir = dirOf(hash);
    const target = path.join(dir, hash);
    for (;;) {
      await ensureDurableDir(dir);
      try {
        await fs.link(tempPath, target);
        await fsyncDir(dir);
        return true;
      } catch (error) {
        if (!hasCode(error, 'EEXIST')) throw error;
      }
      const now = new Date();
      // A re-put counts as fresh for garbage collection (see StoredChunk.modifiedAt).
      if ((await orNullIfMissing(fs.utimes(target, now, now))) !== null) return false;
      // Deleted between link and utimes: link again.
    }
  };

  const put = async (hash: ChunkHash, body: BlobBody, putOptions?: PutOptions): Promise<PutResult> => {
    assertChunkHash(hash);
    const limit = putOptions?.maxBytes ?? MAX_CHUNK_BYTES;
    const tempPath = path.join(tmpDir, `${hash}.${crypto.randomBytes(8).toString('hex')}`);
    // Read-only from birth: nothing should ever write to a chunk again.
    const file = await fs.open(tempPath, 'wx', 0o444);
    let open = true;
    try {
      const verdict = judge(await drainHashed(body, limit, (piece) => writeAll(file, piece)), hash, limit);
      if (!verdict.ok) return verdict;
      await file.sync();
      await file.close();
      open = false;
      return { ok: true, created: await publish(hash, tempPath), size: verdict.size };
    } finally {
      if (open) await file.close();
      await fs.rm(tempPath, { force: true });
    }
  };

  const stat = async (hash: ChunkHash): Promise<ChunkStat | null> => {
    const info = await orNullIfMissing(fs.stat(pathOf(hash)));
    return info === null ? null : { size: info.size };
  };

  const get = async (hash: ChunkHash, range?: ByteRange): Promise<Readable | null> => {
    if (range !== undefined) assertByteRange(range);
    // Open before answering: a delete after this point cannot take the bytes from under the reader.
    const handle = await orNullIfMissing(fs.open(pathOf(hash), 'r'));
    if (handle === null) return null;
    return handle.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
  };

  const remove = async (hash: ChunkHash): Promise<void> => {
    // No directory fsync: a delete undone by a crash only leaves garbage for the next GC.
    await fs.rm(pathOf(hash), { force: true });
  };

  async function* list(): AsyncIterable<StoredChunk> {
    for (const outer of await fs.readdir(chunksDir)) {
      for (const inner of (await orNullIfMissing(fs.readdir(path.join(chunksDir, outer)))) ?? []) {
        const dir = path.join(chunksDir, outer, inner);
        for (const name of (await orNullIfMissing(fs.readdir(dir))) ?? []) {
          if (!ChunkHash.is(name) || dirOf(name) !== dir) continue;
          const info = await orNullIfMissing(fs.stat(path.join(dir, name)));
          if (info !== null) yield { hash: name, size: info.size, modifiedAt: info.mtime };
        }
      }
    }
  }

  const ping = async (): Promise<void> => {
    // A write, not an access() check: a read-only remount or a vanished volume must fail readiness.
    const probe = path.join(tmpDir, `ping.${crypto.randomBytes(6).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  };

  return { put, stat, get, delete: remove, list, ping };
};
