import type { Migration } from './migration.js';

/** Advisory-lock key space of the blob GC fence: (CHUNK_LOCK_SPACE, strata_chunk_lock_key(hash)). */
export const CHUNK_LOCK_SPACE = 7_342_006;

/**
 * Blob garbage collection (src/maintenance/gc/) against commits and uploads that race it. Chunks
 * fall in 64 buckets by their first byte; the sweep holds a bucket's advisory lock exclusively
 * while it re-checks references, records tombstones and deletes blobs. A commit takes the lock
 * shared (this trigger, inside the commit's own transaction) for each chunk it references and is
 * refused if the chunk's blob was deleted; an upload takes it shared to record that it holds a
 * chunk, and clears the tombstone once the bytes are stored again. So no version can reference a
 * deleted blob, whatever the interleaving. 64 buckets keep a big commit's lock count small.
 */
export const blobGc: Migration = {
  version: 7,
  name: 'blob_gc',
  sql: `
    -- Chunks whose blob the sweep deleted; a new upload of the bytes removes the row.
    CREATE TABLE blob_tombstones (
      hash text COLLATE "C" PRIMARY KEY,
      deleted_at timestamptz NOT NULL
    );
    CREATE INDEX blob_tombstones_by_time ON blob_tombstones (deleted_at);

    CREATE FUNCTION strata_chunk_lock_key(hash text) RETURNS integer
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $$ SELECT ('x' || substr(hash, 1, 2))::bit(8)::integer % 64 $$;

    CREATE FUNCTION strata_chunk_ref_fence() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A purge only lowers counts: it never makes a version reference a blob.
      IF TG_OP = 'UPDATE' AND NEW.refs <= OLD.refs THEN
        RETURN NEW;
      END IF;
      PERFORM pg_advisory_xact_lock_shared(${CHUNK_LOCK_SPACE}, strata_chunk_lock_key(NEW.hash));
      IF EXISTS (SELECT 1 FROM blob_tombstones WHERE hash = NEW.hash) THEN
        RAISE EXCEPTION 'chunk % was garbage-collected; upload it again', NEW.hash
          USING ERRCODE = 'SGC01', DETAIL = NEW.hash;
      END IF;
      RETURN NEW;
    END $$;

    CREATE TRIGGER chunk_refs_gc_fence BEFORE INSERT OR UPDATE ON rm.chunk_refs
      FOR EACH ROW EXECUTE FUNCTION strata_chunk_ref_fence();
  `,
};
