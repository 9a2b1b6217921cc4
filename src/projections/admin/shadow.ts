import type pg from 'pg';
import type { Projection } from '../registry.js';

const IDENT = /^[a-z_][a-z0-9_]*$/;
export const ident = (s: string): string => {
  if (!IDENT.test(s)) throw new Error(`invalid identifier ${s}`);
  return s;
};

type Queryable = pg.Pool | pg.ClientBase;

/**
 * (Re)creates `shadow` with empty copies of the projection's live tables: columns, defaults, checks
 * and their names, but no indexes yet; rows load several times faster without them, and
 * addLiveIndexes builds them afterwards in one pass each.
 */
export const createBareShadow = async (db: Queryable, projection: Projection, live: string, shadow: string): Promise<void> => {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(shadow)} CASCADE`);
  await db.query(`CREATE SCHEMA ${ident(shadow)}`);
  for (const table of projection.tables)
    await db.query(`CREATE TABLE ${ident(shadow)}.${ident(table)} (LIKE ${ident(live)}.${ident(table)} INCLUDING ALL EXCLUDING INDEXES)`);
};

interface IndexRow {
  table: string;
  index: string;
  indexdef: string;
  conname: string | null;
  condef: string | null;
}

export type IndexSelection = 'all' | 'ordered' | 'unordered';

/**
 * Gives the shadow tables the live tables' indexes and key constraints under the same names, so that
 * once swapped in they are indistinguishable (code matches constraint names: nodes_live_name is a
 * name_conflict). A bulk load writes rows workspace by workspace, so an index led by workspace_id
 * ('ordered') is cheap to maintain during the load (inserts land at its right edge, and Postgres
 * does it on its own core while Node folds); the others ('unordered') are cheaper built after it.
 */
export const addLiveIndexes = async (db: Queryable, projection: Projection, live: string, shadow: string, which: IndexSelection = 'all'): Promise<void> => {
  const { rows } = await db.query<IndexRow>(
    `SELECT c.relname AS table, i.relname AS index, pg_get_indexdef(x.indexrelid) AS indexdef, con.conname, pg_get_constraintdef(con.oid) AS condef
     FROM pg_index x
     JOIN pg_class c ON c.oid = x.indrelid
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
     ORDER BY c.relname, con.conname NULLS LAST, i.relname`,
    [live, projection.tables],
  );
  for (const r of rows) {
    const ordered = /USING btree \(workspace_id[,)]/.test(r.indexdef);
    if ((which === 'ordered' && !ordered) || (which === 'unordered' && ordered)) continue;
    const target = `${ident(shadow)}.${ident(r.table)}`;
    if (r.conname !== null && r.condef !== null) {
      await db.query(`ALTER TABLE ${target} ADD CONSTRAINT "${r.conname.replace(/"/g, '""')}" ${r.condef}`);
      continue;
    }
    const on = new RegExp(` ON (ONLY )?(${live}\\.)?"?${r.table}"? USING `);
    if (!on.test(r.indexdef)) throw new Error(`cannot re-target index definition: ${r.indexdef}`);
    await db.query(r.indexdef.replace(on, ` ON ${target} USING `));
  }
};

/** Refreshes the planner's statistics of the shadow tables, so plans are right from the first query after a switch. */
export const analyzeShadow = async (db: Queryable, projection: Projection, shadow: string): Promise<void> => {
  for (const table of projection.tables) await db.query(`ANALYZE ${ident(shadow)}.${ident(table)}`);
};

/**
 * Gives the shadow tables the live tables' triggers (migration 007 fences chunk references against
 * blob garbage collection with one). Added after the bulk load, whose rows restate references the
 * live tables already hold, and before the catch-up, whose events are new references like any commit's.
 */
export const addLiveTriggers = async (db: Queryable, projection: Projection, live: string, shadow: string): Promise<void> => {
  const { rows } = await db.query<{ table: string; def: string }>(
    `SELECT c.relname AS table, pg_get_triggerdef(t.oid) AS def
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND NOT t.tgisinternal
     ORDER BY c.relname, t.tgname`,
    [live, projection.tables],
  );
  for (const r of rows) {
    const on = new RegExp(` ON (${live}\\.)?"?${r.table}"? `);
    if (!on.test(r.def)) throw new Error(`cannot re-target trigger definition: ${r.def}`);
    await db.query(r.def.replace(on, ` ON ${ident(shadow)}.${ident(r.table)} `));
  }
};
