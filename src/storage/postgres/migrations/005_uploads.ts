import type { Migration } from './migration.js';

export const uploads: Migration = {
  version: 5,
  name: 'uploads',
  sql: `
    -- Chunks a workspace sent and the server verified by hashing the very bytes it received. With
    -- rm.chunk_refs (chunks its unpurged versions reference) this is what the workspace holds: a
    -- chunk stored only for other workspaces is not held, so upload_request answers it as missing
    -- and nobody learns what other accounts store. Rows count for a limited time after
    -- verified_at (a re-upload refreshes it); blob garbage collection must spare younger ones.
    CREATE TABLE workspace_chunks (
      workspace_id text NOT NULL,
      hash text COLLATE "C" NOT NULL,
      size bigint NOT NULL CHECK (size > 0),
      verified_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, hash)
    );
    CREATE INDEX workspace_chunks_by_hash ON workspace_chunks (hash, verified_at);
    CREATE INDEX workspace_chunks_by_time ON workspace_chunks (verified_at);

    -- One row per upload_request: what the client announced and until when its URLs work.
    CREATE TABLE uploads (
      upload_id text PRIMARY KEY,
      workspace_id text NOT NULL,
      parent_id text NOT NULL,
      file_name text NOT NULL,
      file_size bigint NOT NULL CHECK (file_size >= 0),
      chunk_count integer NOT NULL CHECK (chunk_count >= 0),
      missing_count integer NOT NULL CHECK (missing_count >= 0),
      user_id text NOT NULL,
      device_id text,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX uploads_by_workspace ON uploads (workspace_id, created_at);
    CREATE INDEX uploads_by_expiry ON uploads (expires_at);
  `,
};
