import type pg from 'pg';

/**
 * A named statement: Postgres parses and plans it once per connection and reuses the plan, which on
 * the commit path saves more time than the statements take to run.
 */
export const prepared = (name: string, text: string) => (values: unknown[]): pg.QueryConfig => ({ name, text, values });
