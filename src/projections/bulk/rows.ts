import { BinaryRows } from './binaryRows.js';
import type { TreeRows } from './fold.js';

/** Each tree table's columns, and how a folded row is written as a binary COPY row (types as in the migrations). */
export const TREE_COLUMNS: {
  readonly [T in keyof TreeRows]: { readonly columns: readonly string[]; readonly write: (w: BinaryRows, row: TreeRows[T][number]) => void };
} = {
  workspaces: {
    columns: ['workspace_id', 'root_id', 'owner_id', 'quota_bytes', 'used_bytes', 'cursor', 'created_at', 'updated_at'],
    write: (w, r) =>
      void w.row(8).text(r.workspace_id).text(r.root_id).text(r.owner_id).int8(r.quota_bytes).int8(r.used_bytes).int8(r.cursor).timestamptz(r.created_at).timestamptz(r.updated_at),
  },
  nodes: {
    columns: ['workspace_id', 'node_id', 'kind', 'parent_id', 'name', 'name_key', 'trashed_by', 'purged', 'latest_version_id', 'size', 'content_hash', 'created_at', 'modified_at'],
    write: (w, r) =>
      void w
        .row(13)
        .text(r.workspace_id)
        .text(r.node_id)
        .text(r.kind)
        .textOrNull(r.parent_id)
        .text(r.name)
        .text(r.name_key)
        .textOrNull(r.trashed_by)
        .bool(r.purged)
        .textOrNull(r.latest_version_id)
        .int8(r.size)
        .textOrNull(r.content_hash)
        .timestamptz(r.created_at)
        .timestamptz(r.modified_at),
  },
  versions: {
    columns: ['workspace_id', 'version_id', 'node_id', 'seq', 'size', 'content_hash', 'chunks', 'restored_from', 'user_id', 'device_id', 'created_at', 'modified_at', 'purged_at'],
    write: (w, r) =>
      void w
        .row(13)
        .text(r.workspace_id)
        .text(r.version_id)
        .text(r.node_id)
        .int8(r.seq)
        .int8(r.size)
        .text(r.content_hash)
        .jsonb(JSON.stringify(r.chunks))
        .textOrNull(r.restored_from)
        .text(r.user_id)
        .textOrNull(r.device_id)
        .timestamptz(r.created_at)
        .timestamptz(r.modified_at)
        .timestamptzOrNull(r.purged_at),
  },
  chunk_refs: {
    columns: ['workspace_id', 'hash', 'size', 'refs'],
    write: (w, r) => void w.row(4).text(r.workspace_id).text(r.hash).int8(r.size).int4(r.refs),
  },
  trash: {
    columns: ['workspace_id', 'node_id', 'kind', 'parent_id', 'name', 'path', 'deleted_at', 'user_id', 'device_id'],
    write: (w, r) =>
      void w.row(9).text(r.workspace_id).text(r.node_id).text(r.kind).text(r.parent_id).text(r.name).text(r.path).timestamptz(r.deleted_at).text(r.user_id).textOrNull(r.device_id),
  },
};

export const TREE_TABLES = Object.keys(TREE_COLUMNS) as (keyof TreeRows)[];

/** `COPY schema.table (columns) FROM STDIN` in the binary format the rows are written in. */
export const copyStatement = (schema: string, table: keyof TreeRows, prefix = ''): string =>
  `COPY ${schema}.${prefix}${table} (${TREE_COLUMNS[table].columns.join(', ')}) FROM STDIN WITH (FORMAT binary)`;

/** Per table, binary COPY rows in chunks (plain data: it crosses from a fold worker to the writers). */
export type CopyChunks = [keyof TreeRows, Uint8Array[]][];

/** Rows waiting to be copied, as binary COPY rows, per table; cut in chunks of about `chunkBytes`. */
export class CopyBuffers {
  private readonly pending = new Map<keyof TreeRows, Uint8Array[]>(TREE_TABLES.map((t) => [t, []]));
  private readonly open: Map<keyof TreeRows, BinaryRows>;
  bytes = 0;

  constructor(private readonly chunkBytes = 256 * 1024) {
    this.open = new Map(TREE_TABLES.map((t) => [t, new BinaryRows(chunkBytes + 16 * 1024)]));
  }

  add(rows: TreeRows): void {
    for (const table of TREE_TABLES) {
      const write = (TREE_COLUMNS[table] as { write: (w: BinaryRows, row: unknown) => void }).write;
      const w = this.open.get(table) as BinaryRows;
      for (const row of rows[table]) {
        const before = w.length;
        write(w, row);
        this.bytes += w.length - before;
        if (w.length >= this.chunkBytes) (this.pending.get(table) as Uint8Array[]).push(w.take());
      }
    }
  }

  /** Takes everything buffered: per table, its chunks. */
  take(): CopyChunks {
    const out: CopyChunks = [];
    for (const table of TREE_TABLES) {
      const chunks = this.pending.get(table) as Uint8Array[];
      const w = this.open.get(table) as BinaryRows;
      if (w.length > 0) chunks.push(w.take());
      if (chunks.length > 0) out.push([table, chunks]);
      this.pending.set(table, []);
    }
    this.bytes = 0;
    return out;
  }
}
