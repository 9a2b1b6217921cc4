import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { ChunkHash } from '../../../domain/ids.js';
import { ensureDurableDir, orNullIfMissing } from '../durableFs.js';
import type { ByteRange, CompactOptions, CompactReport, StoredChunk } from '../port.js';
import { newPackId, packIdsIn, packPath, readPacked, writePack } from './packFile.js';
import { packIndex, type PackedLocation } from './packIndex.js';

/** Chunks up to this size are packed when sent many at once; larger ones stay a file each. */
export const PACKED_CHUNK_MAX_BYTES = 64 * 1024;

export interface PackStoreOptions {
  readonly dirs: { readonly tmp: string; readonly packs: string };
  readonly pool: pg.Pool;
  readonly now?: () => Date;
}

const LIST_PAGE = 1000;
/** Lookups again after a compaction moved chunks between a lookup and the read. */
const MOVED_RETRIES = 3;

/**
 * The packed part of the filesystem blob store: many small chunks in one file and one fsync,
 * found through the pack index in Postgres. Packs are immutable; deleting a chunk drops its index
 * entry, and compaction rewrites the packs that became mostly dead and removes the old files.
 */
export const createPackStore = async (options: PackStoreOptions) => {
  const { dirs } = options;
  const now = options.now ?? (() => new Date());
  const index = packIndex(options.pool);
  await ensureDurableDir(dirs.packs);

  /** Writes the chunks (verified, distinct, none packed yet) as one pack; answers those it created. */
  const pack = async (chunks: readonly { hash: ChunkHash; bytes: Uint8Array }[]): Promise<Set<ChunkHash>> => {
    const at = now();
    const packId = newPackId(at);
    const written = await writePack(dirs, packId, chunks);
    try {
      return await index.add({ packId, bytes: written.bytes }, written.entries, at);
    } catch (error) {
      // Not recorded: nothing refers to the file. Were this removal lost too, compaction removes
      // an unindexed pack once it is old enough.
      await fs.rm(packPath(dirs.packs, packId), { force: true });
      throw error;
    }
  };

  /** Whole bytes of those of hashes that are packed, following chunks that compaction moves meanwhile. */
  const readMany = async (hashes: readonly ChunkHash[]): Promise<Map<ChunkHash, Uint8Array>> => {
    const out = new Map<ChunkHash, Uint8Array>();
    let wanted = [...new Set(hashes)];
    for (let attempt = 0; attempt <= MOVED_RETRIES && wanted.length > 0; attempt++) {
      const located = await index.locate(wanted);
      const byPack = new Map<string, (PackedLocation & { hash: ChunkHash })[]>();
      for (const [hash, where] of located) {
        const inPack = byPack.get(where.packId) ?? [];
        if (inPack.length === 0) byPack.set(where.packId, inPack);
        inPack.push({ ...where, hash });
      }
      const moved: ChunkHash[] = [];
      for (const [packId, chunks] of byPack) {
        const bytes = await readPacked(dirs.packs, packId, chunks);
        if (bytes === null) moved.push(...chunks.map((c) => c.hash));
        else for (const [hash, b] of bytes) out.set(hash, b);
      }
      wanted = moved;
    }
    if (wanted.length > 0) throw new Error(`packed chunks kept moving while being read: ${wanted.slice(0, 3).join(', ')}`);
    return out;
  };

  const readOne = async (hash: ChunkHash, range?: ByteRange): Promise<Readable | null> => {
    const bytes = (await readMany([hash])).get(hash);
    if (bytes === undefined) return null;
    return Readable.from(range === undefined ? [bytes] : [bytes.subarray(range.start, range.end + 1)], { objectMode: false });
  };

  async function* list(): AsyncIterable<StoredChunk> {
    for (let after = ''; ; ) {
      const page = await index.page(after, LIST_PAGE);
      yield* page;
      if (page.length < LIST_PAGE) return;
      after = (page[page.length - 1] as StoredChunk).hash;
    }
  }

  const compact = async ({ before, dryRun = false }: CompactOptions): Promise<CompactReport> => {
    let packsRewritten = 0;
    let packsRemoved = 0;
    let reclaimedBytes = 0;
    // Pack files the index never recorded: a crash (or a failed commit) between write and record.
    const onDisk = await packIdsIn(dirs.packs);
    const known = await index.known(onDisk);
    for (const packId of onDisk.filter((id) => !known.has(id))) {
      const info = await orNullIfMissing(fs.stat(packPath(dirs.packs, packId)));
      if (info === null || info.mtime >= before) continue;
      if (!dryRun) await fs.rm(packPath(dirs.packs, packId), { force: true });
      packsRemoved++;
      reclaimedBytes += info.size;
    }
    for (const sparse of await index.sparse(before)) {
      const entries = sparse.liveBytes === 0 ? [] : await index.entriesOf(sparse.packId);
      if (dryRun) {
        if (entries.length === 0) packsRemoved++;
        else packsRewritten++;
        reclaimedBytes += sparse.bytes - sparse.liveBytes;
        continue;
      }
      let replacement: { packId: string; bytes: number; entries: typeof entries } | null = null;
      if (entries.length > 0) {
        const bytes = await readPacked(dirs.packs, sparse.packId, entries);
        // Gone: another compaction took this pack first.
        if (bytes === null) continue;
        const packId = newPackId(now());
        const written = await writePack(dirs, packId, entries.map((e) => ({ hash: e.hash, bytes: bytes.get(e.hash) as Uint8Array })));
        replacement = { packId, ...written };
      }
      const replaced = await index.replace(sparse.packId, replacement, now()).catch(async (error: unknown) => {
        if (replacement !== null) await fs.rm(packPath(dirs.packs, replacement.packId), { force: true });
        throw error;
      });
      if (!replaced) {
        if (replacement !== null) await fs.rm(packPath(dirs.packs, replacement.packId), { force: true });
        continue;
      }
      // Readers that looked the old place up and open it after this find it gone and look again.
      await fs.rm(packPath(dirs.packs, sparse.packId), { force: true });
      if (replacement === null) packsRemoved++;
      else packsRewritten++;
      reclaimedBytes += sparse.bytes - (replacement?.bytes ?? 0);
    }
    return { packsRewritten, packsRemoved, reclaimedBytes };
  };

  return {
    pack,
    readMany,
    readOne,
    touch: index.touch,
    locate: index.locate,
    remove: index.remove,
    list,
    compact,
  };
};

export type PackStore = Awaited<ReturnType<typeof createPackStore>>;
