import type pg from 'pg';
import type { ChunkHash } from '../../domain/ids.js';
import { VERIFIED_UPLOAD_HOLD_SECONDS } from '../../gateway/transfers/holdings.js';
import type { BlobStore, StoredChunk } from '../../storage/blobs/port.js';
import { CHUNK_LOCK_SPACE } from '../../storage/postgres/migrations/007_blob_gc.js';

/** A blob written (or re-written) this recently is never collected, whatever the database says. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
/**
 * Tombstones only stop commits that were already past their holdings check when the blob went, and
 * holdings this old count for nothing (see holdings.ts): both are dropped after a week.
 */
const HOUSEKEEPING_AFTER_MS = 7 * 24 * 60 * 60 * 1000;
const SCAN_BATCH = 1000;
/** Blobs deleted under one lock of their bucket, so commits in it never wait long. */
const SWEEP_BATCH = 200;

export interface GcOptions {
  readonly pool: pg.Pool;
  readonly blobs: BlobStore;
  readonly now: Date;
  /** Blobs modified more recently than this are spared (default 1 h). */
  readonly graceMs?: number;
  /**
   * How long a verified but uncommitted upload protects its chunk: the gateway's holding window
   * (24 h, VERIFIED_UPLOAD_HOLD_SECONDS) plus the grace period, so clocks a little apart agree.
   */
  readonly holdingMs?: number;
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: GcProgress) => void;
  /** Called with a bucket's lock just taken, before references are read again (tests interleave uploads and commits here). */
  readonly whileLocked?: (candidates: readonly ChunkHash[]) => Promise<void>;
}

export type GcProgress = { readonly phase: 'scan'; readonly chunks: number; readonly bytes: number } | { readonly phase: 'sweep'; readonly done: number; readonly total: number };

export interface GcReport {
  readonly dryRun: boolean;
  readonly scannedChunks: number;
  readonly scannedBytes: number;
  /** Unreferenced blobs past the grace period: deleted, or what a dry run would delete. */
  readonly garbageChunks: number;
  readonly garbageBytes: number;
  readonly deletedChunks: number;
  readonly freedBytes: number;
  /** Candidates that an upload or commit took back between the scan and the sweep. */
  readonly sparedChunks: number;
  readonly tombstonesPruned: number;
  readonly holdingsPruned: number;
  readonly stagedUploadsRemoved: number;
  /**
   * Stores that pack small chunks free a deleted one's space when its pack is rewritten (once less
   * than half of it is live) or removed: packs so rewritten and removed by this run, and the disk
   * space that gave back (a dry run: what it would). Zero for stores where delete frees at once.
   */
  readonly packsRewritten: number;
  readonly packsRemoved: number;
  readonly reclaimedBytes: number;
}

type Queryable = pg.Pool | pg.ClientBase;

/** Of hashes, those a version of any workspace references, or that an upload holds recently enough. */
const referencedAmong = async (db: Queryable, hashes: readonly string[], holdingSince: Date): Promise<Set<string>> => {
  const { rows } = await db.query<{ hash: string }>({
    name: 'gc_referenced',
    text: `SELECT h.hash FROM unnest($1::text[]) AS h(hash)
           WHERE EXISTS (SELECT 1 FROM rm.chunk_refs r WHERE r.hash = h.hash AND r.refs > 0)
              OR EXISTS (SELECT 1 FROM workspace_chunks c WHERE c.hash = h.hash AND c.verified_at > $2)`,
    values: [hashes, holdingSince],
  });
  return new Set(rows.map((r) => r.hash));
};

/** The lock bucket of a chunk: strata_chunk_lock_key (migration 007), used here only to group the sweep. */
const bucketOf = (hash: string): number => Number.parseInt(hash.slice(0, 2), 16) % 64;

/** Unreferenced blobs older than the grace period, found by listing the store a batch at a time. */
const scan = async (options: GcOptions, graceMs: number, holdingSince: Date) => {
  const youngSince = options.now.getTime() - graceMs;
  const candidates: StoredChunk[] = [];
  let chunks = 0;
  let bytes = 0;
  let batch: StoredChunk[] = [];
  const check = async () => {
    const referenced = await referencedAmong(options.pool, batch.map((c) => c.hash), holdingSince);
    for (const c of batch) if (!referenced.has(c.hash) && c.modifiedAt.getTime() < youngSince) candidates.push(c);
    batch = [];
    options.onProgress?.({ phase: 'scan', chunks, bytes });
  };
  for await (const chunk of options.blobs.list()) {
    chunks++;
    bytes += chunk.size;
    batch.push(chunk);
    if (batch.length >= SCAN_BATCH) await check();
  }
  if (batch.length > 0) await check();
  return { candidates, chunks, bytes };
};

/**
 * Deletes one group of candidates (all in one bucket) under the bucket's lock, taken exclusively:
 * commits that reference a chunk of the bucket and uploads that record one wait meanwhile. The
 * references are read again under the lock, so anything that took a candidate back since the scan
 * spares it; tombstones are committed before any blob goes, so a commit that passed its holdings
 * check earlier and reaches the lock later is refused instead of referencing a deleted blob.
 */
const sweepGroup = async (options: GcOptions, group: readonly StoredChunk[], holdingSince: Date): Promise<{ deleted: StoredChunk[]; spared: number }> => {
  const client = await options.pool.connect();
  // The key as the database computes it for commits and uploads: one definition of a bucket.
  const key = [CHUNK_LOCK_SPACE, group[0]?.hash ?? ''];
  try {
    await client.query({ name: 'gc_lock_bucket', text: 'SELECT pg_advisory_lock($1, strata_chunk_lock_key($2))', values: key });
    try {
      await options.whileLocked?.(group.map((c) => c.hash));
      const referenced = await referencedAmong(client, group.map((c) => c.hash), holdingSince);
      const garbage = group.filter((c) => !referenced.has(c.hash));
      if (garbage.length > 0) {
        await client.query({
          name: 'gc_tombstones',
          text: `INSERT INTO blob_tombstones (hash, deleted_at) SELECT unnest($1::text[]), $2
                 ON CONFLICT (hash) DO UPDATE SET deleted_at = excluded.deleted_at`,
          values: [garbage.map((c) => c.hash), options.now],
        });
        for (const c of garbage) await options.blobs.delete(c.hash);
      }
      return { deleted: garbage, spared: group.length - garbage.length };
    } finally {
      await client.query({ name: 'gc_unlock_bucket', text: 'SELECT pg_advisory_unlock($1, strata_chunk_lock_key($2))', values: key });
    }
  } finally {
    client.release();
  }
};

const prune = async (options: GcOptions) => {
  const before = new Date(options.now.getTime() - HOUSEKEEPING_AFTER_MS);
  const tombstones = await options.pool.query('DELETE FROM blob_tombstones WHERE deleted_at < $1', [before]);
  const holdings = await options.pool.query('DELETE FROM workspace_chunks WHERE verified_at < $1', [before]);
  const staged = (await options.blobs.presign?.sweepStaged(new Date(options.now.getTime() - VERIFIED_UPLOAD_HOLD_SECONDS * 1000))) ?? 0;
  return { tombstonesPruned: tombstones.rowCount ?? 0, holdingsPruned: holdings.rowCount ?? 0, stagedUploadsRemoved: staged };
};

/**
 * Mark and sweep of the blob store: a blob is garbage when no version of any workspace references
 * it (rm.chunk_refs), no recent upload holds it (workspace_chunks), and it was not written during
 * the grace period. Safe against uploads and commits running meanwhile (see sweepGroup and
 * migration 007); a dry run reports what would go and deletes nothing.
 */
export const collectGarbage = async (options: GcOptions): Promise<GcReport> => {
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const holdingSince = new Date(options.now.getTime() - (options.holdingMs ?? VERIFIED_UPLOAD_HOLD_SECONDS * 1000 + graceMs));
  const { candidates, chunks, bytes } = await scan(options, graceMs, holdingSince);
  const base = { scannedChunks: chunks, scannedBytes: bytes, tombstonesPruned: 0, holdingsPruned: 0, stagedUploadsRemoved: 0 };
  // Packs written during the grace period are left alone, as young blobs are.
  const compact = (dryRun: boolean) =>
    options.blobs.compact?.({ before: new Date(options.now.getTime() - graceMs), dryRun }) ?? Promise.resolve({ packsRewritten: 0, packsRemoved: 0, reclaimedBytes: 0 });
  if (options.dryRun === true) {
    const referenced = await referencedAmong(options.pool, candidates.map((c) => c.hash), holdingSince);
    const garbage = candidates.filter((c) => !referenced.has(c.hash));
    const garbageBytes = garbage.reduce((s, c) => s + c.size, 0);
    return { ...base, ...(await compact(true)), dryRun: true, garbageChunks: garbage.length, garbageBytes, deletedChunks: 0, freedBytes: 0, sparedChunks: candidates.length - garbage.length };
  }
  const groups = new Map<number, StoredChunk[][]>();
  for (const c of candidates) {
    const lists = groups.get(bucketOf(c.hash)) ?? [[]];
    let last = lists[lists.length - 1] as StoredChunk[];
    if (last.length >= SWEEP_BATCH) lists.push((last = []));
    last.push(c);
    groups.set(bucketOf(c.hash), lists);
  }
  let done = 0;
  let deleted = 0;
  let freed = 0;
  let spared = 0;
  for (const group of [...groups.values()].flat()) {
    const result = await sweepGroup(options, group, holdingSince);
    deleted += result.deleted.length;
    freed += result.deleted.reduce((s, c) => s + c.size, 0);
    spared += result.spared;
    done += group.length;
    options.onProgress?.({ phase: 'sweep', done, total: candidates.length });
  }
  return { ...base, ...(await prune(options)), ...(await compact(false)), dryRun: false, garbageChunks: deleted, garbageBytes: freed, deletedChunks: deleted, freedBytes: freed, sparedChunks: spared };
};
