import type pg from 'pg';
import type { ChunkHash, WorkspaceId } from '../../domain/ids.js';
import { CHUNK_LOCK_SPACE } from '../../storage/postgres/migrations/007_blob_gc.js';
import { inTransaction, pgErrorCode } from '../../storage/postgres/transaction.js';

/** SQLSTATE the chunk_refs trigger raises when a commit references a chunk whose blob the sweep deleted. */
const COLLECTED = 'SGC01';

/**
 * Records that a workspace sent a chunk's bytes and they hashed right, under the chunk's GC lock
 * taken shared, after checking the blob is still stored: a sweep that deleted it between the put
 * and this lock answers false (send it again), one that comes later sees the fresh holding and
 * spares the blob. A stored blob is no longer a tombstone.
 */
export const recordVerifiedUpload = async (
  pool: pg.Pool,
  upload: { workspaceId: WorkspaceId; hash: ChunkHash; size: number; now: Date },
  stillStored: () => Promise<boolean>,
): Promise<boolean> =>
  inTransaction(pool, async (client) => {
    await client.query({ name: 'gc_fence_upload', text: 'SELECT pg_advisory_xact_lock_shared($1, strata_chunk_lock_key($2))', values: [CHUNK_LOCK_SPACE, upload.hash] });
    if (!(await stillStored())) return false;
    await client.query({ name: 'gc_fence_untombstone', text: 'DELETE FROM blob_tombstones WHERE hash = $1', values: [upload.hash] });
    await client.query({
      name: 'transfers_record_verified',
      text: `INSERT INTO workspace_chunks (workspace_id, hash, size, verified_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, hash) DO UPDATE SET verified_at = GREATEST(workspace_chunks.verified_at, excluded.verified_at)`,
      values: [upload.workspaceId, upload.hash, upload.size, upload.now],
    });
    return true;
  });

/**
 * recordVerifiedUpload for many chunks of one workspace in one transaction (one durable write):
 * the buckets' locks shared, then the blobs checked as still stored (storedAmong answers which of
 * them the store holds). Answers the hashes a sweep took meanwhile (send them again); the others
 * are recorded.
 */
export const recordVerifiedUploads = async (
  pool: pg.Pool,
  uploads: { workspaceId: WorkspaceId; chunks: readonly { hash: ChunkHash; size: number }[]; now: Date },
  storedAmong: (hashes: readonly ChunkHash[]) => Promise<Set<ChunkHash>>,
): Promise<Set<ChunkHash>> =>
  inTransaction(pool, async (client) => {
    // Sorted: two batches of one workspace that share chunks take their rows in the same order.
    const hashes = [...new Set(uploads.chunks.map((c) => c.hash))].sort();
    const collected = new Set<ChunkHash>();
    if (hashes.length === 0) return collected;
    await client.query({
      name: 'gc_fence_uploads',
      text: 'SELECT pg_advisory_xact_lock_shared($1, k) FROM (SELECT DISTINCT strata_chunk_lock_key(h) AS k FROM unnest($2::text[]) AS h ORDER BY 1) AS b',
      values: [CHUNK_LOCK_SPACE, hashes],
    });
    const stored = await storedAmong(hashes);
    for (const hash of hashes) if (!stored.has(hash)) collected.add(hash);
    const sizeOf = new Map(uploads.chunks.map((c) => [c.hash, c.size]));
    const sizes = new Map(hashes.filter((h) => !collected.has(h)).map((h) => [h, sizeOf.get(h) ?? 0]));
    await client.query({ name: 'gc_fence_untombstone_many', text: 'DELETE FROM blob_tombstones WHERE hash = ANY($1::text[])', values: [[...sizes.keys()]] });
    await client.query({
      name: 'transfers_record_verified_many',
      text: `INSERT INTO workspace_chunks (workspace_id, hash, size, verified_at)
             SELECT $1, h, s, $4 FROM unnest($2::text[], $3::bigint[]) AS u(h, s)
             ON CONFLICT (workspace_id, hash) DO UPDATE SET verified_at = GREATEST(workspace_chunks.verified_at, excluded.verified_at)`,
      values: [uploads.workspaceId, [...sizes.keys()], [...sizes.values()], uploads.now],
    });
    return collected;
  });

/** The chunk a commit was refused for because the sweep deleted its blob, or null for any other error. */
export const collectedChunk = (error: unknown): ChunkHash | null =>
  pgErrorCode(error) === COLLECTED ? ((error as { detail?: string }).detail as ChunkHash | undefined) ?? null : null;
