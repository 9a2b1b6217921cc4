import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, isErrno, readJsonFile, writeFileAtomic } from './files.js';
import type { Mutation, Snapshot } from './model.js';

/**
 * The state's durable form: a snapshot plus a journal of the mutations since, one JSON line per
 * transaction, each fsynced before `append` resolves. A line cut short by a crash is the end of
 * the journal: that transaction never happened. Compaction writes a snapshot of the next
 * generation (temp + fsync + rename) and only then drops the old journal, so at every moment one
 * snapshot and the journal of its generation describe the whole state.
 */
export interface Journal {
  load(): Promise<{ snapshot: Snapshot | null; mutations: Mutation[] }>;
  append(mutations: readonly Mutation[]): Promise<void>;
  compact(snapshot: Omit<Snapshot, 'generation'>): Promise<void>;
  /** Bytes in the current journal file: when to compact. */
  readonly size: number;
  close(): Promise<void>;
}

const SNAPSHOT = 'snapshot.json';
const journalName = (generation: number) => `journal-${generation}.log`;

const isSnapshot = (u: unknown): u is Snapshot =>
  typeof u === 'object' && u !== null && (u as { version?: unknown }).version === 1 && typeof (u as { generation?: unknown }).generation === 'number';

/** readOnly: for a second process looking on (status); it neither truncates nor cleans up. */
export const openJournal = async (dir: string, options: { readOnly?: boolean } = {}): Promise<Journal> => {
  if (options.readOnly !== true) await fs.mkdir(dir, { recursive: true });
  let generation = 0;
  let handle: fs.FileHandle | null = null;
  let size = 0;
  let tail: Promise<void> = Promise.resolve();

  const openAt = async (gen: number, goodBytes: number) => {
    const file = path.join(dir, journalName(gen));
    handle = await fs.open(file, 'a+');
    // Whatever followed the last whole line was a write cut short: it goes, so appends start clean.
    const { size: actual } = await handle.stat();
    if (actual > goodBytes) await handle.truncate(goodBytes);
    size = goodBytes;
  };

  const load = async (): Promise<{ snapshot: Snapshot | null; mutations: Mutation[] }> => {
    const raw = await readJsonFile(path.join(dir, SNAPSHOT));
    if (raw !== null && !isSnapshot(raw)) throw new Error(`${path.join(dir, SNAPSHOT)} is not a Strata state snapshot`);
    const snapshot = raw;
    generation = snapshot?.generation ?? 0;
    let text = '';
    try {
      text = await fs.readFile(path.join(dir, journalName(generation)), 'utf8');
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    const mutations: Mutation[] = [];
    let good = 0;
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf('\n', at);
      if (end === -1) break;
      try {
        mutations.push(...(JSON.parse(text.slice(at, end)) as Mutation[]));
      } catch {
        break;
      }
      good += Buffer.byteLength(text.slice(at, end + 1), 'utf8');
      at = end + 1;
    }
    if (options.readOnly === true) return { snapshot, mutations };
    // Journals of other generations, and snapshots never renamed into place, are leftovers of a
    // compaction cut short.
    for (const name of await fs.readdir(dir))
      if ((/^journal-\d+\.log$/.test(name) && name !== journalName(generation)) || name.endsWith('.tmp')) await fs.rm(path.join(dir, name), { force: true });
    await openAt(generation, good);
    return { snapshot, mutations };
  };

  const serially = (work: () => Promise<void>): Promise<void> => {
    const next = tail.then(work);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    load,
    get size() {
      return size;
    },
    append: (mutations) =>
      serially(async () => {
        if (mutations.length === 0) return;
        if (handle === null) throw new Error('journal not loaded');
        const line = Buffer.from(`${JSON.stringify(mutations)}\n`, 'utf8');
        await handle.write(line, 0, line.length, null);
        await handle.datasync();
        size += line.length;
      }),
    compact: (state) =>
      serially(async () => {
        const next = generation + 1;
        await writeFileAtomic(path.join(dir, SNAPSHOT), JSON.stringify({ ...state, generation: next }));
        const old = handle;
        const oldName = journalName(generation);
        generation = next;
        await openAt(next, 0);
        await old?.close();
        await fs.rm(path.join(dir, oldName), { force: true });
        await fsyncDir(dir);
      }),
    close: () =>
      serially(async () => {
        await handle?.close();
        handle = null;
      }),
  };
};
