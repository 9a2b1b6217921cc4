import type { Migration } from './migration.js';

export const serverSettings: Migration = {
  version: 3,
  name: 'server_settings',
  sql: `
    -- Settings every node of one service must share, made once by whichever node starts first.
    CREATE TABLE server_settings (
      key text PRIMARY KEY,
      value text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
