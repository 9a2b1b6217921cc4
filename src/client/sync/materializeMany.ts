import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { statOf } from '../local/scan.js';
import { fetchVerified, type FetchedChunks } from '../transfer/batchDownload.js';
import { localCopy, withOffsets } from '../transfer/download.js';
import { forEachLimit, limiter } from '../../concurrency/limit.js';
import { isMissingRoute, withoutBatchCalls } from './batching.js';
import { absPath, type SyncContext, type TransferProgress } from './context.js';
import { adopt, assessLocal, materialize, placeBuilt, tempFor, type Assessed, type Download, type Outcome } from './materialize.js';

// A group: the files whose chunks one chunks/fetch brings. The server reads a fetch's chunks one
// after the other, so a few fetches of moderate size in flight bring them sooner than one large
// one; groups already fetched are written meanwhile. Groups in flight bound the memory held.
const GROUP_BYTES = 2 * 1024 * 1024;
const GROUP_RECORDS = 256;
const FETCHES_IN_FLIGHT = 3;
const GROUPS_IN_FLIGHT = 8;
// Files written at once, across groups: each waits mostly on its fsync, which the disk merges
// when several are under way.
const WRITES_IN_FLIGHT = 12;
const LOCAL_READS_IN_FLIGHT = 8;

const fsync = promisify(fsSync.fsync);

/** Files in order, cut into groups whose chunks fit one chunks/fetch of GROUP_BYTES. */
const fetchGroupsOf = (items: readonly Download[]): Download[][] => {
  const groups: Download[][] = [];
  let group: Download[] = [];
  let bytes = 0;
  let records = 0;
  for (const item of items) {
    const count = item.version.chunks.length;
    if (group.length > 0 && (bytes + item.version.size > GROUP_BYTES || records + count > GROUP_RECORDS)) {
      groups.push(group);
      group = [];
      bytes = 0;
      records = 0;
    }
    group.push(item);
    bytes += item.version.size;
    records += count;
  }
  if (group.length > 0) groups.push(group);
  return groups;
};

/**
 * Writes the version into a temp file, fsynced; answers its stat. open, write, fstat and close are
 * synchronous: for a file of a few KiB each is a few microseconds, where a thread-pool round trip
 * waits behind the fsyncs of the other files being written. The fsync itself goes to the pool.
 */
const writeTemp = async (temp: string, pieces: readonly { readonly bytes: Uint8Array; readonly offset: number }[]) => {
  const fd = fsSync.openSync(temp, 'w', 0o644);
  try {
    for (const { bytes, offset } of pieces) for (let done = 0; done < bytes.length; ) done += fsSync.writeSync(fd, bytes, done, bytes.length - done, offset + done);
    await fsync(fd);
    return statOf(fsSync.fstatSync(fd));
  } finally {
    fsSync.closeSync(fd);
  }
};

/**
 * Puts many small versions in place: their chunks copied from local files where this device has
 * them, the others fetched many to a request (chunks/fetch, every record checked against its
 * hash), each file written to .strata/tmp, fsynced and renamed into place as materialize does.
 * A file whose chunks the server no longer serves, or that arrived damaged, is skipped (the next
 * pull says what is there now). done is told each file's outcome as it is known.
 */
export const materializeMany = async (
  ctx: SyncContext,
  items: readonly Download[],
  progress: TransferProgress,
  done: (outcome: Outcome) => Promise<void>,
): Promise<void> => {
  const writeSlot = limiter(WRITES_IN_FLIGHT);
  const fetchSlot = limiter(FETCHES_IN_FLIGHT);
  // Folders made sure of once per run, not once per file.
  const folders = new Set<string>();
  const ensureFolder = async (dir: string) => {
    if (folders.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    folders.add(dir);
  };

  const build = async (item: Download, assessed: Exclude<Assessed, { kind: 'same' }>, chunks: FetchedChunks): Promise<Outcome> => {
    const lacking = item.version.chunks.filter((c) => !chunks.bytes.has(c.hash));
    if (lacking.length > 0) {
      const damaged = lacking.find((c) => chunks.corrupt.has(c.hash));
      if (damaged !== undefined) ctx.reporter.warn(`${item.path}: chunk ${damaged.hash} arrived damaged; will retry`);
      return 'skipped';
    }
    const placed = withOffsets(item.version.chunks);
    const temp = tempFor(ctx);
    try {
      const stat = await writeTemp(
        temp,
        placed.map((c) => ({ bytes: chunks.bytes.get(c.hash) as Buffer, offset: c.offset })),
      );
      progress.advance(item.version.size);
      await ensureFolder(path.dirname(absPath(ctx, item.path)));
      return await placeBuilt(ctx, item, assessed, temp, placed, stat, progress);
    } catch (e) {
      await fs.rm(temp, { force: true });
      throw e;
    }
  };

  const runGroup = async (group: readonly Download[]): Promise<void> => {
    const toBuild: { item: Download; assessed: Exclude<Assessed, { kind: 'same' }> }[] = [];
    await forEachLimit(group, LOCAL_READS_IN_FLIGHT, async (item) => {
      const assessed = await assessLocal(ctx, item);
      if (assessed.kind === 'same') await done(adopt(ctx, item, assessed, progress));
      else toBuild.push({ item, assessed });
    });
    // Every distinct chunk once: from a local file when one holds it (checked), else fetched.
    const sizes = new Map<string, number>();
    for (const { item } of toBuild) for (const c of item.version.chunks) sizes.set(c.hash, c.size);
    const local = new Map<string, Buffer>();
    await forEachLimit([...sizes.keys()], LOCAL_READS_IN_FLIGHT, async (hash) => {
      const bytes = ctx.state.chunks.has(hash) ? await localCopy(ctx, hash) : null;
      if (bytes !== null) local.set(hash, bytes);
    });
    for (const hash of local.keys()) sizes.delete(hash);
    let chunks: FetchedChunks;
    try {
      chunks = sizes.size === 0 ? { bytes: new Map(), unavailable: new Set(), corrupt: new Set() } : await fetchSlot(() => fetchVerified(ctx, sizes));
    } catch (e) {
      if (!isMissingRoute(e)) throw e;
      withoutBatchCalls(ctx);
      await forEachLimit(toBuild, ctx.options.fileConcurrency, async ({ item }) => done(await materialize(ctx, item, progress)));
      return;
    }
    for (const [hash, bytes] of local) chunks.bytes.set(hash, bytes);
    await forEachLimit(toBuild, WRITES_IN_FLIGHT, ({ item, assessed }) => writeSlot(async () => done(await build(item, assessed, chunks))));
  };

  await forEachLimit(fetchGroupsOf(items), GROUPS_IN_FLIGHT, runGroup);
};
