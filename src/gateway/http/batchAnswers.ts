import type pg from 'pg';
import { workspaceStreamId } from '../../storage/eventlog/workspaceSchema.js';
import type { ApiError } from './errors.js';

/** One refused item of a batch call: the status and error its single call would have answered. */
export const refusedResult = (e: ApiError) => ({ status: e.status, error: { code: e.code, message: e.message, details: e.details } });

/** The workspace's cursor now: a batch call's answer when it appended nothing. */
export const workspaceCursor = async (pool: pg.Pool, workspaceId: string): Promise<number> => {
  const { rows } = await pool.query<{ version: string }>({ name: 'batch_workspace_cursor', text: 'SELECT version FROM es_streams WHERE stream_id = $1', values: [workspaceStreamId(workspaceId)] });
  return Number(rows[0]?.version ?? 0);
};
