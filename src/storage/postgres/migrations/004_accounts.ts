import type { Migration } from './migration.js';

export const accounts: Migration = {
  version: 4,
  name: 'accounts',
  sql: `
    -- One workspace per user. workspace_id has no foreign key: rm.workspaces is a read model that
    -- rebuilds replace wholesale. Signup creates the workspace first and the user row last, so a
    -- user row never exists without its workspace.
    CREATE TABLE users (
      user_id text PRIMARY KEY,
      -- Trimmed and lowercased by the server before it gets here; unique as stored.
      email text COLLATE "C" NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
      -- PHC string: $scrypt$ln=..,r=..,p=..$salt$hash (parameters kept with each hash).
      password_hash text NOT NULL,
      workspace_id text NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT users_email_unique UNIQUE (email),
      CONSTRAINT users_workspace_unique UNIQUE (workspace_id)
    );

    -- A device is one login. Authentication reads it by primary key on every request, so a
    -- revocation is seen by every server node at once.
    CREATE TABLE devices (
      device_id text PRIMARY KEY,
      user_id text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
      workspace_id text NOT NULL,
      name text NOT NULL,
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      -- The last workspace cursor this device pulled; only ever moves forward.
      cursor bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
      revoked_at timestamptz,
      revoked_reason text CHECK (revoked_reason IN ('deleted', 'refresh_token_reuse')),
      CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
    );
    CREATE INDEX devices_live_by_user ON devices (user_id, created_at) WHERE revoked_at IS NULL;

    -- One row per issued refresh token, kept after use (used_at) so that a replayed one is
    -- recognised as reuse. Only the SHA-256 of the token is stored.
    CREATE TABLE refresh_tokens (
      token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
      device_id text NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
      issued_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    );
    CREATE INDEX refresh_tokens_by_device ON refresh_tokens (device_id, expires_at);
  `,
};
