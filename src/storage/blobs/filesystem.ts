import crypto from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { MAX_CHUNK_BYTES } from '../../domain/chunks.js';
import { ChunkHash } from '../../domain/ids.js';
import { assertByteRange, assertChunkHash, drainHashed, judge, type Verdict } from './body.js';
import { ensureDurableDir, fsyncDir, hasCode, orNullIfMissing, writeAll } from './durableFs.js';
import { forEachLimit } from '../../concurrency/limit.js';
import { createPackStore, PACKED_CHUNK_MAX_BYTES, type PackStore } from './packs/packStore.js';
import type { BlobBody, BlobStore, ByteRange, ChunkBytes, ChunkStat, PutManyResult, PutOptions, PutResult, StoredChunk } from './port.js';

export interface FilesystemBlobStoreOptions {
  readonly root: string;
  /**
   * Temp files untouched for this long are leftovers of a crash and are removed at start. Younger
   * ones may belong to another process sharing the root (a CLI command next to the server).
   */
  readonly staleTempMs?: number;
  /**
   * The pack index's database (src/storage/blobs/packs/): with it, putMany writes the small chunks
   * of a batch into one pack file; without it, every chunk is a file of its own.
   */
  readonly packs?: { readonly pool: pg.Pool; readonly maxChunkBytes?: number };
}

/** Large chunks of a putMany stored at once, each a file and an fsync of its own. */
const LOOSE_CONCURRENCY = 8;

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
 *
 * With options.packs, the small chunks of a putMany go instead into one pack under root/packs (a
 * file, two fsyncs and one index commit for the batch, where files of their own cost each chunk
 * two fsyncs and a dozen file system calls). Reads look for a chunk's own file first, then the
 * pack index. A chunk can, after racing puts, be both; delete removes both and list names it once.
 */
export const createFilesystemBlobStore = async (options: FilesystemBlobStoreOptions): Promise<BlobStore> => {
  const chunksDir = path.join(options.root, 'chunks');
  const tmpDir = path.join(options.root, 'tmp');
  await ensureDurableDir(chunksDir);
  await ensureDurableDir(tmpDir);
  await removeStaleTemps(tmpDir, options.staleTempMs ?? 15 * 60_000);
  const packs: PackStore | null =
    options.packs === undefined ? null : await createPackStore({ dirs: { tmp: tmpDir, packs: path.join(options.root, 'packs') }, pool: options.packs.pool });
  const packMax = options.packs?.maxChunkBytes ?? PACKED_CHUNK_MAX_BYTES;

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

  /**
   * Writes a temp file (write answers whether what it wrote is the chunk), fsyncs it and keeps it
   * as the chunk; the temp file is gone afterwards, whatever the outcome.
   */
  const viaTemp = async (hash: ChunkHash, write: (file: fs.FileHandle) => Promise<Verdict>): Promise<PutResult> => {
    const tempPath = path.join(tmpDir, `${hash}.${crypto.randomBytes(8).toString('hex')}`);
    // Read-only from birth: nothing should ever write to a chunk again.
    const file = await fs.open(tempPath, 'wx', 0o444);
    let open = true;
    try {
      const verdict = await write(file);
      if (!verdict.ok) return verdict;
      await file.sync();
      await file.close();
      open = false;
      // Already in a pack: the put only refreshes it, as a re-put of a file does.
      if (packs !== null && verdict.size <= packMax && (await packs.touch([hash], new Date())).has(hash)) return { ok: true, created: false, size: verdict.size };
      return { ok: true, created: await publish(hash, tempPath), size: verdict.size };
    } finally {
      if (open) await file.close();
      await fs.rm(tempPath, { force: true });
    }
  };

  const put = async (hash: ChunkHash, body: BlobBody, putOptions?: PutOptions): Promise<PutResult> => {
    assertChunkHash(hash);
    const limit = putOptions?.maxBytes ?? MAX_CHUNK_BYTES;
    return viaTemp(hash, async (file) => judge(await drainHashed(body, limit, (piece) => writeAll(file, piece)), hash, limit));
  };

  const stat = async (hash: ChunkHash): Promise<ChunkStat | null> => {
    const info = await orNullIfMissing(fs.stat(pathOf(hash)));
    if (info !== null) return { size: info.size };
    const packed = packs === null ? undefined : (await packs.locate([hash])).get(hash);
    return packed === undefined ? null : { size: packed.size };
  };

  const get = async (hash: ChunkHash, range?: ByteRange): Promise<Readable | null> => {
    if (range !== undefined) assertByteRange(range);
    // Open before answering: a delete after this point cannot take the bytes from under the reader.
    const handle = await orNullIfMissing(fs.open(pathOf(hash), 'r'));
    if (handle === null) return packs === null ? null : packs.readOne(hash, range);
    return handle.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
  };

  const remove = async (hash: ChunkHash): Promise<void> => {
    // No directory fsync: a delete undone by a crash only leaves garbage for the next GC.
    await fs.rm(pathOf(hash), { force: true });
    await packs?.remove(hash);
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
    if (packs === null) return;
    // Named once: a chunk that is both a file and packed was listed above.
    for await (const chunk of packs.list()) if (!fsSync.existsSync(pathOf(chunk.hash))) yield chunk;
  }

  /** Every chunk hashed before any is kept; then the large ones as files, the small ones as one pack. */
  const putMany = async (chunks: readonly ChunkBytes[]): Promise<PutManyResult> => {
    for (const [index, { hash, bytes }] of chunks.entries()) {
      assertChunkHash(hash);
      if (bytes.length > MAX_CHUNK_BYTES) return { ok: false, code: 'payload_too_large', limit: MAX_CHUNK_BYTES, index };
      const actual = crypto.createHash('sha256').update(bytes).digest('hex');
      if (actual !== hash) return { ok: false, code: 'hash_mismatch', actual: actual as ChunkHash, index };
    }
    const distinct = [...new Map(chunks.map((c) => [c.hash, c.bytes])).entries()];
    const created = new Set<ChunkHash>();
    const small = packs === null ? [] : distinct.filter(([, bytes]) => bytes.length <= packMax);
    const large = packs === null ? distinct : distinct.filter(([, bytes]) => bytes.length > packMax);
    // Hashed above: written as they are.
    await forEachLimit(large, LOOSE_CONCURRENCY, async ([hash, bytes]) => {
      const result = await viaTemp(hash, async (file) => {
        await writeAll(file, bytes);
        return { ok: true, size: bytes.length };
      });
      if (result.ok && result.created) created.add(hash);
    });
    if (packs !== null && small.length > 0) {
      const now = new Date();
      const refreshed = await packs.touch(small.map(([hash]) => hash), now);
      // A file of its own already holds it (the synchronous check: a few microseconds, no thread-pool
      // round trip): refreshed as a re-put refreshes it, for garbage collection.
      const loose = small.filter(([hash]) => !refreshed.has(hash) && fsSync.existsSync(pathOf(hash)));
      const gone = new Set<ChunkHash>();
      await forEachLimit(loose, LOOSE_CONCURRENCY, async ([hash]) => {
        if ((await orNullIfMissing(fs.utimes(pathOf(hash), now, now))) === null) gone.add(hash);
      });
      // Deleted since the check: packed like any new chunk.
      const kept = new Set(loose.map(([hash]) => hash).filter((hash) => !gone.has(hash)));
      const fresh = small.filter(([hash]) => !refreshed.has(hash) && !kept.has(hash));
      if (fresh.length > 0) for (const hash of await packs.pack(fresh.map(([hash, bytes]) => ({ hash, bytes })))) created.add(hash);
    }
    const announced = new Set<ChunkHash>();
    return {
      ok: true,
      results: chunks.map(({ hash, bytes }) => {
        const first = created.has(hash) && !announced.has(hash);
        announced.add(hash);
        return { created: first, size: bytes.length };
      }),
    };
  };

  const storedAmong = async (hashes: readonly ChunkHash[]): Promise<Set<ChunkHash>> => {
    const stored = new Set(hashes.filter((hash) => fsSync.existsSync(pathOf(hash))));
    const rest = hashes.filter((hash) => !stored.has(hash));
    if (packs !== null) for (const hash of (await packs.locate(rest)).keys()) stored.add(hash);
    return stored;
  };

  const getMany = async (hashes: readonly ChunkHash[]): Promise<Map<ChunkHash, Uint8Array>> => {
    for (const hash of hashes) assertChunkHash(hash);
    const found = packs === null ? new Map<ChunkHash, Uint8Array>() : await packs.readMany(hashes);
    for (const hash of new Set(hashes)) {
      if (found.has(hash)) continue;
      const bytes = await orNullIfMissing(fs.readFile(pathOf(hash)));
      if (bytes !== null) found.set(hash, bytes);
    }
    return found;
  };

  const ping = async (): Promise<void> => {
    // A write, not an access() check: a read-only remount or a vanished volume must fail readiness.
    const probe = path.join(tmpDir, `ping.${crypto.randomBytes(6).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  };

  return { put, stat, get, delete: remove, list, ping, putMany, storedAmong, getMany, ...(packs === null ? {} : { compact: packs.compact }) };
};
