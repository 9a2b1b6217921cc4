import type pg from 'pg';

/** Row counts of the log and the tree projection, to show that a refused command changed nothing. */
export const createDatabaseCounter = (pool: pg.Pool) => ({
  snapshot: async (): Promise<Record<string, number>> => {
    const { rows } = await pool.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM es_events) AS events, (SELECT count(*) FROM rm.nodes) AS nodes,
              (SELECT count(*) FROM rm.versions) AS versions, (SELECT count(*) FROM rm.chunk_refs) AS chunk_refs,
              (SELECT count(*) FROM rm.trash) AS trash, (SELECT sum(cursor) FROM rm.workspaces) AS cursors`,
    );
    return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
  },
});
