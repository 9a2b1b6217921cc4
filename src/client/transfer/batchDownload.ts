import { ServerRefusal, ServerUnavailable } from '../api/errors.js';
import type { SyncContext } from '../sync/context.js';
import { sha256 } from './download.js';
import { MalformedRecords, MAX_RECORDS, MAX_RECORDS_BYTES } from './records.js';

export interface FetchedChunks {
  /** Chunks that arrived whole, each checked against its hash. */
  readonly bytes: Map<string, Buffer>;
  /** Chunks the server no longer serves (every file referencing them was superseded or purged meanwhile). */
  readonly unavailable: Set<string>;
  /** Chunks that arrived damaged, or not at all in an answer that should have held them. */
  readonly corrupt: Set<string>;
}

const missingOf = (e: unknown): string[] | null => {
  if (!(e instanceof ServerRefusal) || e.code !== 'not_found') return null;
  const missing = e.details.missing;
  return Array.isArray(missing) && missing.every((h) => typeof h === 'string') ? (missing as string[]) : null;
};

/** One chunks/fetch call for hashes (within the per-request limits); every record checked as it arrives. */
const fetchOnce = async (ctx: SyncContext, sizes: ReadonlyMap<string, number>, hashes: readonly string[], into: FetchedChunks): Promise<void> => {
  const asked = new Set(hashes);
  try {
    for await (const record of ctx.api.fetchChunks(hashes)) {
      // Only what was asked, each once, of the size the version says and hashing to its name.
      if (!asked.delete(record.hash)) continue;
      const bytes = Buffer.from(record.bytes.buffer, record.bytes.byteOffset, record.bytes.byteLength);
      if (bytes.length === sizes.get(record.hash) && sha256(bytes) === record.hash) into.bytes.set(record.hash, bytes);
      else into.corrupt.add(record.hash);
    }
  } catch (e) {
    if (e instanceof ServerRefusal || e instanceof ServerUnavailable) throw e;
    // The body broke off (or was not records): what arrived whole is kept, the rest is fetched again later.
    if (!(e instanceof MalformedRecords)) throw new ServerUnavailable(`the answer to chunks/fetch broke off: ${(e as Error).message}`, null, { cause: e });
  }
  for (const hash of asked) into.corrupt.add(hash);
};

/**
 * The bytes of these chunks (hash -> size, as the versions say), many to a chunks/fetch request
 * within its limits. Hashes the server answers not_found for are left out and the rest asked again.
 */
export const fetchVerified = async (ctx: SyncContext, sizes: ReadonlyMap<string, number>): Promise<FetchedChunks> => {
  const fetched: FetchedChunks = { bytes: new Map(), unavailable: new Set(), corrupt: new Set() };
  let request: string[] = [];
  let bytes = 0;
  const requests: string[][] = [];
  for (const [hash, size] of sizes) {
    if (request.length > 0 && (request.length >= MAX_RECORDS || bytes + size > MAX_RECORDS_BYTES)) {
      requests.push(request);
      request = [];
      bytes = 0;
    }
    request.push(hash);
    bytes += size;
  }
  if (request.length > 0) requests.push(request);
  for (let hashes of requests)
    while (hashes.length > 0) {
      try {
        await ctx.chunkSlot(() => fetchOnce(ctx, sizes, hashes, fetched));
        break;
      } catch (e) {
        const missing = new Set(missingOf(e));
        const rest = hashes.filter((h) => !missing.has(h));
        if (rest.length === hashes.length) throw e;
        for (const hash of hashes) if (missing.has(hash)) fetched.unavailable.add(hash);
        hashes = rest;
      }
    }
  return fetched;
};
