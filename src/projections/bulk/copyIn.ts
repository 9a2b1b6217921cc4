import type pg from 'pg';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER } from './binaryRows.js';

/**
 * COPY ... FROM STDIN for node-postgres without another dependency: a "submittable" (the extension
 * point pg-cursor and pg-copy-streams use) that sends the given text-format chunks when the server
 * asks for them. Bulk loads (a projection rebuild, the rebuild benchmark) write several times faster
 * this way than with INSERTs.
 */
class CopyIn {
  callback: ((err: Error | null, rowCount: number) => void) | undefined;
  private rowCount = 0;
  private done = false;

  constructor(
    private readonly text: string,
    private readonly chunks: readonly (string | Uint8Array)[],
  ) {}

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    for (const chunk of this.chunks)
      connection.sendCopyFromChunk(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const n = /(\d+)$/.exec(msg.text ?? '');
    this.rowCount = n ? Number(n[1]) : 0;
  }

  handleReadyForQuery(): void {
    this.finish(null);
  }

  handleError(err: Error): void {
    this.finish(err);
  }

  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.callback?.(err, this.rowCount);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <target> FROM STDIN` with rows already encoded (as COPY text, see copyLine, or binary); resolves with the row count. */
export const copyIn = (client: pg.ClientBase, statement: string, chunks: readonly (string | Uint8Array)[]): Promise<number> =>
  new Promise((resolve, reject) => {
    const copy = new CopyIn(statement, chunks);
    copy.callback = (err, n) => (err ? reject(err) : resolve(n));
    (client as unknown as { query(q: CopyIn): unknown }).query(copy);
  });

const SPECIAL = /[\\\n\r\t]/g;
const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY's text format: NULL as \N, booleans as t/f, strings escaped. */
export const copyValue = (v: string | number | boolean | null): string => {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return NEEDS_ESCAPE.test(v) ? v.replace(SPECIAL, (c) => ESCAPES[c] as string) : v;
};

/** One row in COPY's text format, newline included. */
export const copyLine = (values: readonly (string | number | boolean | null)[]): string => `${values.map(copyValue).join('\t')}\n`;

/** copyIn of binary rows (bulk/binaryRows.ts): the statement says `WITH (FORMAT binary)`; the header and trailer are added here. */
export const copyInBinary = (client: pg.ClientBase, statement: string, rows: readonly Uint8Array[]): Promise<number> =>
  copyIn(client, statement, [BINARY_COPY_HEADER, ...rows, BINARY_COPY_TRAILER]);
