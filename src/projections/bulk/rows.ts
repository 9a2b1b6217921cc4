import { copyValue } from './copyIn.js';
import type { TreeRows } from './fold.js';

type Value = string | number | boolean | null;

/** Each tree table's columns, and how a folded row becomes COPY values (jsonb as JSON text). */
export const TREE_COLUMNS: { readonly [T in keyof TreeRows]: { readonly columns: readonly string[]; readonly values: (row: TreeRows[T][number]) => Value[] } } = {
  workspaces: {
    columns: ['workspace_id', 'root_id', 'owner_id', 'quota_bytes', 'used_bytes', 'cursor', 'created_at', 'updated_at'],
    values: (r) => [r.workspace_id, r.root_id, r.owner_id, r.quota_bytes, r.used_bytes, r.cursor, r.created_at, r.updated_at],
  },
  nodes: {
    columns: ['workspace_id', 'node_id', 'kind', 'parent_id', 'name', 'name_key', 'trashed_by', 'purged', 'latest_version_id', 'size', 'content_hash', 'created_at', 'modified_at'],
    values: (r) => [r.workspace_id, r.node_id, r.kind, r.parent_id, r.name, r.name_key, r.trashed_by, r.purged, r.latest_version_id, r.size, r.content_hash, r.created_at, r.modified_at],
  },
  versions: {
    columns: ['workspace_id', 'version_id', 'node_id', 'seq', 'size', 'content_hash', 'chunks', 'restored_from', 'user_id', 'device_id', 'created_at', 'modified_at', 'purged_at'],
    values: (r) => [r.workspace_id, r.version_id, r.node_id, r.seq, r.size, r.content_hash, JSON.stringify(r.chunks), r.restored_from, r.user_id, r.device_id, r.created_at, r.modified_at, r.purged_at],
  },
  chunk_refs: {
    columns: ['workspace_id', 'hash', 'size', 'refs'],
    values: (r) => [r.workspace_id, r.hash, r.size, r.refs],
  },
  trash: {
    columns: ['workspace_id', 'node_id', 'kind', 'parent_id', 'name', 'path', 'deleted_at', 'user_id', 'device_id'],
    values: (r) => [r.workspace_id, r.node_id, r.kind, r.parent_id, r.name, r.path, r.deleted_at, r.user_id, r.device_id],
  },
};

export const TREE_TABLES = Object.keys(TREE_COLUMNS) as (keyof TreeRows)[];

/** Rows waiting to be copied, as COPY text, per table; flushed in chunks of about `chunkBytes`. */
export class CopyBuffers {
  private readonly pending = new Map<keyof TreeRows, string[]>(TREE_TABLES.map((t) => [t, []]));
  private readonly current = new Map<keyof TreeRows, string>(TREE_TABLES.map((t) => [t, '']));
  bytes = 0;

  constructor(private readonly chunkBytes = 256 * 1024) {}

  add(rows: TreeRows): void {
    for (const table of TREE_TABLES) {
      const spec = TREE_COLUMNS[table] as { values: (row: unknown) => Value[] };
      let text = this.current.get(table) as string;
      for (const row of rows[table]) {
        const line = `${spec.values(row).map(copyValue).join('\t')}\n`;
        text += line;
        this.bytes += line.length;
        if (text.length >= this.chunkBytes) {
          (this.pending.get(table) as string[]).push(text);
          text = '';
        }
      }
      this.current.set(table, text);
    }
  }

  /** Takes everything buffered: per table, its COPY text chunks. */
  take(): Map<keyof TreeRows, string[]> {
    const out = new Map<keyof TreeRows, string[]>();
    for (const table of TREE_TABLES) {
      const chunks = this.pending.get(table) as string[];
      const rest = this.current.get(table) as string;
      if (rest !== '') chunks.push(rest);
      if (chunks.length > 0) out.set(table, chunks);
      this.pending.set(table, []);
      this.current.set(table, '');
    }
    this.bytes = 0;
    return out;
  }
}
