import type { Migration } from './migration.js';

export const readModels: Migration = {
  version: 2,
  name: 'read_models',
  sql: `
    CREATE SCHEMA rm;

    -- One row per workspace; cursor is the stream version the inline projections have applied.
    CREATE TABLE rm.workspaces (
      workspace_id text PRIMARY KEY,
      root_id text NOT NULL,
      owner_id text NOT NULL,
      quota_bytes bigint NOT NULL,
      used_bytes bigint NOT NULL,
      cursor bigint NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );

    -- The folder tree. Paths are not stored: a move is one row whatever the subtree's size,
    -- and paths are walked from parent links (depth is small; the unique index serves each step).
    CREATE TABLE rm.nodes (
      workspace_id text NOT NULL,
      node_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('file', 'folder')),
      parent_id text,
      name text NOT NULL,
      name_key text COLLATE "C" NOT NULL,
      trashed_by text,
      purged boolean NOT NULL DEFAULT false,
      latest_version_id text,
      size bigint NOT NULL DEFAULT 0,
      content_hash text,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, node_id)
    );
    -- Sibling names are unique among live nodes; also the index for children pages and path walks.
    CREATE UNIQUE INDEX nodes_live_name ON rm.nodes (workspace_id, parent_id, name_key)
      WHERE trashed_by IS NULL AND NOT purged;
    -- What went to the trash with a given trash root: undelete and purge select it in one step.
    CREATE INDEX nodes_trashed_by ON rm.nodes (workspace_id, trashed_by) WHERE trashed_by IS NOT NULL;

    CREATE TABLE rm.versions (
      workspace_id text NOT NULL,
      version_id text NOT NULL,
      node_id text NOT NULL,
      seq bigint NOT NULL,
      size bigint NOT NULL,
      content_hash text NOT NULL,
      chunks jsonb NOT NULL,
      restored_from text,
      user_id text NOT NULL,
      device_id text,
      created_at timestamptz NOT NULL,
      modified_at timestamptz NOT NULL,
      purged_at timestamptz,
      PRIMARY KEY (workspace_id, version_id)
    );
    CREATE INDEX versions_by_node ON rm.versions (workspace_id, node_id, seq DESC);

    -- How many unpurged versions of the workspace reference each chunk: the upload "missing"
    -- answer and, across workspaces, garbage collection of blobs.
    CREATE TABLE rm.chunk_refs (
      workspace_id text NOT NULL,
      hash text COLLATE "C" NOT NULL,
      size bigint NOT NULL,
      refs integer NOT NULL CHECK (refs >= 0),
      PRIMARY KEY (workspace_id, hash)
    );
    CREATE INDEX chunk_refs_by_hash ON rm.chunk_refs (hash);

    -- Trash roots: what was deleted, from where, and when.
    CREATE TABLE rm.trash (
      workspace_id text NOT NULL,
      node_id text NOT NULL,
      kind text NOT NULL,
      parent_id text NOT NULL,
      name text NOT NULL,
      path text NOT NULL,
      deleted_at timestamptz NOT NULL,
      user_id text NOT NULL,
      device_id text,
      PRIMARY KEY (workspace_id, node_id)
    );
    CREATE INDEX trash_by_time ON rm.trash (deleted_at);
  `,
};
