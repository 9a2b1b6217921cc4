import type { Migration } from './migration.js';

export const eventLog: Migration = {
  version: 1,
  name: 'event_log',
  sql: `
    CREATE TABLE es_streams (
      stream_id text PRIMARY KEY,
      version bigint NOT NULL CHECK (version >= 0)
    );

    -- global_position orders events within a transaction; tx_id orders transactions by start.
    -- Readers of the whole log only pass tx_ids below the oldest transaction still in flight
    -- (pg_snapshot_xmin), so a slow writer's events are never skipped by a reader that already
    -- saw a later position.
    CREATE TABLE es_events (
      global_position bigserial PRIMARY KEY,
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL,
      stream_version bigint NOT NULL,
      event_id uuid NOT NULL UNIQUE,
      type text NOT NULL,
      schema_version integer NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      UNIQUE (stream_id, stream_version)
    );
    CREATE INDEX es_events_commit_order ON es_events (tx_id, global_position);

    -- A command's idempotency key, and the stream versions its events took (none when
    -- first_version > last_version): a retried command returns the same events, appends nothing.
    CREATE TABLE es_idempotency (
      stream_id text NOT NULL,
      key text NOT NULL,
      first_version bigint NOT NULL,
      last_version bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stream_id, key)
    );

    -- How far each projection fed from the whole log (not inline) has applied it.
    CREATE TABLE projection_checkpoints (
      projection text PRIMARY KEY,
      tx_id xid8 NOT NULL,
      global_position bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
