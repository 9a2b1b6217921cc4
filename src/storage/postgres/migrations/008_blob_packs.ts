import type { Migration } from './migration.js';

/**
 * The index of the filesystem blob store's packs (src/storage/blobs/packs/): small chunks sent many
 * to a request are written together into one pack file, one fsync for the lot, and found here by
 * hash. Shared by every process on the store's root, so a chunk one of them packs or deletes is
 * seen by all, and kept in the same database as the GC fence that decides when a chunk may go.
 */
export const blobPacks: Migration = {
  version: 8,
  name: 'blob_packs',
  sql: `
    CREATE TABLE blob_packs (
      pack_id text COLLATE "C" PRIMARY KEY,
      bytes bigint NOT NULL,
      created_at timestamptz NOT NULL
    );

    -- Where each packed chunk's bytes start; modified_at is the last put, as a loose file's mtime.
    CREATE TABLE blob_packed (
      hash text COLLATE "C" PRIMARY KEY,
      pack_id text COLLATE "C" NOT NULL,
      byte_offset bigint NOT NULL,
      size integer NOT NULL,
      modified_at timestamptz NOT NULL
    );
    CREATE INDEX blob_packed_by_pack ON blob_packed (pack_id);
  `,
};
