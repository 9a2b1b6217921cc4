import type pg from 'pg';
import type { ChunkHash } from '../../../domain/ids.js';
import { RECORD_HEADER_BYTES } from '../../../protocol/chunkRecords.js';
import { inTransaction } from '../../postgres/transaction.js';
import { PACK_MAGIC } from './packMagic.js';

/** Where a packed chunk's bytes are: pack file, offset of the first byte, length. */
export interface PackedLocation {
  readonly packId: string;
  readonly offset: number;
  readonly size: number;
}

export interface PackEntry extends PackedLocation {
  readonly hash: ChunkHash;
}

export interface PackUsage {
  readonly packId: string;
  readonly bytes: number;
  readonly liveBytes: number;
}

/** The pack index in Postgres (migration 008): which pack holds which chunk, shared by every process on the root. */
export const packIndex = (pool: pg.Pool) => ({
  /** Marks those of hashes already packed as put again now (a GC grace period counts from here); answers them. */
  touch: async (hashes: readonly ChunkHash[], now: Date): Promise<Set<ChunkHash>> => {
    if (hashes.length === 0) return new Set();
    const { rows } = await pool.query<{ hash: ChunkHash }>({
      name: 'packs_touch',
      text: 'UPDATE blob_packed SET modified_at = GREATEST(modified_at, $2) WHERE hash = ANY($1::text[]) RETURNING hash',
      values: [hashes, now],
    });
    return new Set(rows.map((r) => r.hash));
  },

  /**
   * Records a pack written and fsynced, and its entries, in one statement (one commit). An entry
   * whose hash another pack got first keeps that pack (its copy here is dead space for compaction);
   * answers the hashes this pack created.
   */
  add: async (pack: { packId: string; bytes: number }, entries: readonly PackEntry[], now: Date): Promise<Set<ChunkHash>> => {
    const { rows } = await pool.query<{ hash: ChunkHash; created: boolean }>({
      name: 'packs_add',
      text: `WITH pack AS (INSERT INTO blob_packs (pack_id, bytes, created_at) VALUES ($1, $2, $3))
             INSERT INTO blob_packed (hash, pack_id, byte_offset, size, modified_at)
             SELECT h, $1, o, s, $3 FROM unnest($4::text[], $5::bigint[], $6::int[]) AS u(h, o, s)
             ON CONFLICT (hash) DO UPDATE SET modified_at = GREATEST(blob_packed.modified_at, excluded.modified_at)
             RETURNING hash, (xmax = 0) AS created`,
      values: [pack.packId, pack.bytes, now, entries.map((e) => e.hash), entries.map((e) => e.offset), entries.map((e) => e.size)],
    });
    return new Set(rows.filter((r) => r.created).map((r) => r.hash));
  },

  locate: async (hashes: readonly ChunkHash[]): Promise<Map<ChunkHash, PackedLocation>> => {
    if (hashes.length === 0) return new Map();
    const { rows } = await pool.query<{ hash: ChunkHash; pack_id: string; byte_offset: string; size: number }>({
      name: 'packs_locate',
      text: 'SELECT hash, pack_id, byte_offset, size FROM blob_packed WHERE hash = ANY($1::text[])',
      values: [hashes],
    });
    return new Map(rows.map((r) => [r.hash, { packId: r.pack_id, offset: Number(r.byte_offset), size: r.size }]));
  },

  remove: async (hash: ChunkHash): Promise<void> => {
    await pool.query({ name: 'packs_remove', text: 'DELETE FROM blob_packed WHERE hash = $1', values: [hash] });
  },

  /** One page of entries after `after` in hash order, with their last put, for listing. */
  page: async (after: string, limit: number): Promise<{ hash: ChunkHash; size: number; modifiedAt: Date }[]> => {
    const { rows } = await pool.query<{ hash: ChunkHash; size: number; modified_at: Date }>({
      name: 'packs_page',
      text: 'SELECT hash, size, modified_at FROM blob_packed WHERE hash > $1 ORDER BY hash LIMIT $2',
      values: [after, limit],
    });
    return rows.map((r) => ({ hash: r.hash, size: r.size, modifiedAt: r.modified_at }));
  },

  /**
   * Packs written before `before` whose live records would fill less than half of them: what a
   * rewrite of their live chunks would write (`liveBytes`, the file header and each record's header
   * included, so a pack nothing was deleted from is never sparse, however small its chunks).
   */
  sparse: async (before: Date): Promise<PackUsage[]> => {
    const { rows } = await pool.query<{ pack_id: string; bytes: string; live: string }>({
      name: 'packs_sparse',
      text: `SELECT p.pack_id, p.bytes, CASE WHEN count(e.hash) = 0 THEN 0 ELSE $2 + SUM(e.size + $3) END AS live
             FROM blob_packs p LEFT JOIN blob_packed e ON e.pack_id = p.pack_id
             WHERE p.created_at < $1
             GROUP BY p.pack_id, p.bytes
             HAVING CASE WHEN count(e.hash) = 0 THEN 0 ELSE $2 + SUM(e.size + $3) END * 2 < p.bytes
             ORDER BY p.pack_id`,
      values: [before, PACK_MAGIC.length, RECORD_HEADER_BYTES],
    });
    return rows.map((r) => ({ packId: r.pack_id, bytes: Number(r.bytes), liveBytes: Number(r.live) }));
  },

  entriesOf: async (packId: string): Promise<PackEntry[]> => {
    const { rows } = await pool.query<{ hash: ChunkHash; byte_offset: string; size: number }>({
      name: 'packs_entries_of',
      text: 'SELECT hash, byte_offset, size FROM blob_packed WHERE pack_id = $1 ORDER BY byte_offset',
      values: [packId],
    });
    return rows.map((r) => ({ hash: r.hash, packId, offset: Number(r.byte_offset), size: r.size }));
  },

  /** Of these pack ids, those the index knows. */
  known: async (packIds: readonly string[]): Promise<Set<string>> => {
    if (packIds.length === 0) return new Set();
    const { rows } = await pool.query<{ pack_id: string }>({
      name: 'packs_known',
      text: 'SELECT pack_id FROM blob_packs WHERE pack_id = ANY($1::text[])',
      values: [packIds],
    });
    return new Set(rows.map((r) => r.pack_id));
  },

  /**
   * Moves the entries still in `from` to their places in `to` (null: none left to move) and forgets
   * `from`, in one transaction with `from`'s row locked: two compactions never move one pack twice.
   * An entry deleted meanwhile is simply not moved. False when `from` was already gone.
   */
  replace: async (from: string, to: { packId: string; bytes: number; entries: readonly PackEntry[] } | null, now: Date): Promise<boolean> =>
    inTransaction(pool, async (client) => {
      const locked = await client.query({ name: 'packs_lock', text: 'SELECT 1 FROM blob_packs WHERE pack_id = $1 FOR UPDATE', values: [from] });
      if (locked.rowCount === 0) return false;
      if (to !== null) {
        await client.query({ name: 'packs_insert_pack', text: 'INSERT INTO blob_packs (pack_id, bytes, created_at) VALUES ($1, $2, $3)', values: [to.packId, to.bytes, now] });
        await client.query({
          name: 'packs_move',
          text: `UPDATE blob_packed SET pack_id = $1, byte_offset = u.o
                 FROM unnest($2::text[], $3::bigint[]) AS u(h, o)
                 WHERE blob_packed.hash = u.h AND blob_packed.pack_id = $4`,
          values: [to.packId, to.entries.map((e) => e.hash), to.entries.map((e) => e.offset), from],
        });
      }
      const left = await client.query({ name: 'packs_left', text: 'SELECT 1 FROM blob_packed WHERE pack_id = $1 LIMIT 1', values: [from] });
      if (left.rowCount !== 0) throw new Error(`unreachable: pack ${from} still holds entries after its live ones were moved`);
      await client.query({ name: 'packs_forget', text: 'DELETE FROM blob_packs WHERE pack_id = $1', values: [from] });
      return true;
    }),
});

export type PackIndex = ReturnType<typeof packIndex>;
