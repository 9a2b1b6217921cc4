import type pg from 'pg';
import type { ChunkHash, WorkspaceId } from '../../domain/ids.js';
import { recordVerifiedUpload } from '../../maintenance/gc/fence.js';

/**
 * How long a verified upload counts as held without a version referencing it: long enough to
 * resume and commit a large upload, short enough that blob garbage collection can reclaim what was
 * never committed. GC must spare chunks with a workspace_chunks row younger than this.
 */
export const VERIFIED_UPLOAD_HOLD_SECONDS = 24 * 60 * 60;

/** Which chunks a workspace holds, and what it sent and had verified. */
export interface Holdings {
  /**
   * Of hashes, those this workspace holds: referenced by one of its unpurged versions, or recently
   * verified for it and not garbage-collected since (a tombstone; src/maintenance/gc/).
   */
  held(workspaceId: WorkspaceId, hashes: readonly ChunkHash[], now: Date): Promise<Set<ChunkHash>>;
  /** The chunk's size when one of the workspace's unpurged versions references it (only then are its bytes served to it), else null. */
  referenced(workspaceId: WorkspaceId, hash: ChunkHash): Promise<number | null>;
  /**
   * Records that the workspace sent these bytes and they hashed to hash, under the chunk's GC fence
   * (src/maintenance/gc/fence.ts); false when a garbage sweep took the blob after it was stored.
   */
  recordVerified(workspaceId: WorkspaceId, hash: ChunkHash, size: number, now: Date, stillStored: () => Promise<boolean>): Promise<boolean>;
}

export const createHoldings = (pool: pg.Pool): Holdings => ({
  held: async (workspaceId, hashes, now) => {
    if (hashes.length === 0) return new Set();
    const since = new Date(now.getTime() - VERIFIED_UPLOAD_HOLD_SECONDS * 1000);
    // Not a named statement: a plan cached for a short list of hashes, or while the tables were
    // small, scans them whole for a batch's hundreds (see loadNodes in decisionState.ts).
    const { rows } = await pool.query<{ hash: ChunkHash }>({
      text: `SELECT r.hash FROM rm.chunk_refs r WHERE r.workspace_id = $1 AND r.hash = ANY($2::text[]) AND r.refs > 0
             UNION
             SELECT c.hash FROM workspace_chunks c WHERE c.workspace_id = $1 AND c.hash = ANY($2::text[]) AND c.verified_at > $3
               AND NOT EXISTS (SELECT 1 FROM blob_tombstones t WHERE t.hash = c.hash)`,
      values: [workspaceId, [...new Set(hashes)], since],
    });
    return new Set(rows.map((r) => r.hash));
  },
  referenced: async (workspaceId, hash) => {
    const { rows } = await pool.query<{ size: string }>({
      name: 'transfers_referenced',
      text: 'SELECT size FROM rm.chunk_refs WHERE workspace_id = $1 AND hash = $2 AND refs > 0',
      values: [workspaceId, hash],
    });
    return rows[0] === undefined ? null : Number(rows[0].size);
  },
  recordVerified: (workspaceId, hash, size, now, stillStored) => recordVerifiedUpload(pool, { workspaceId, hash, size, now }, stillStored),
});
