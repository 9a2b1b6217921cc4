import type { Migration } from './migration.js';
import { CHUNK_LOCK_SPACE } from './007_blob_gc.js';

/**
 * The blob GC fence of migration 007, checked once per statement instead of once per row: a batch
 * of 500 commits inserts 500 chunk references in one statement, and the row trigger (a plpgsql
 * call, an advisory lock and a tombstone probe per row) cost ~40 ms of it, under the workspace's
 * lock. Same rule, same error: the statement's new or grown references take their buckets' locks
 * shared, then are refused (SGC01, the first such chunk in DETAIL) if a sweep deleted one's blob.
 * The lock is taken before the check and held to the commit, as before, so a sweep either sees the
 * reference or the commit sees the tombstone; taken at the statement's end rather than per row
 * changes neither side of that.
 */
export const fencePerStatement: Migration = {
  version: 9,
  name: 'fence_per_statement',
  sql: `
    DROP TRIGGER chunk_refs_gc_fence ON rm.chunk_refs;

    CREATE FUNCTION strata_chunk_refs_fence() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      gone text;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock_shared(${CHUNK_LOCK_SPACE}, b.k)
          FROM (SELECT DISTINCT strata_chunk_lock_key(n.hash) AS k FROM new_rows n ORDER BY 1) b;
        SELECT n.hash INTO gone FROM new_rows n JOIN blob_tombstones t ON t.hash = n.hash LIMIT 1;
      ELSE
        -- A purge only lowers counts: it never makes a version reference a blob.
        PERFORM pg_advisory_xact_lock_shared(${CHUNK_LOCK_SPACE}, b.k)
          FROM (SELECT DISTINCT strata_chunk_lock_key(n.hash) AS k FROM new_rows n
                JOIN old_rows o ON o.workspace_id = n.workspace_id AND o.hash = n.hash WHERE n.refs > o.refs ORDER BY 1) b;
        SELECT n.hash INTO gone FROM new_rows n JOIN old_rows o ON o.workspace_id = n.workspace_id AND o.hash = n.hash
          JOIN blob_tombstones t ON t.hash = n.hash WHERE n.refs > o.refs LIMIT 1;
      END IF;
      IF gone IS NOT NULL THEN
        RAISE EXCEPTION 'chunk % was garbage-collected; upload it again', gone
          USING ERRCODE = 'SGC01', DETAIL = gone;
      END IF;
      RETURN NULL;
    END $$;

    -- A trigger with transition tables names one event: one for inserts, one for updates.
    CREATE TRIGGER chunk_refs_gc_fence_insert AFTER INSERT ON rm.chunk_refs
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_chunk_refs_fence();
    CREATE TRIGGER chunk_refs_gc_fence_update AFTER UPDATE ON rm.chunk_refs
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_chunk_refs_fence();
  `,
};
