import { ChunkIndex } from '../transfer/chunkIndex.js';
import { openJournal, type Journal } from './journal.js';
import type { Mutation, PendingCommit, RemoteNode, Report, SyncedEntry } from './model.js';

const MAX_REPORTS = 500;
// A journal past this size is folded into a new snapshot at the next flush.
const COMPACT_BYTES = 32 * 1024 * 1024;

/** True when path is `prefix` itself or lies under it (paths are relative, '/'-separated). */
export const isWithin = (path: string, prefix: string): boolean => prefix === '' || path === prefix || path.startsWith(`${prefix}/`);

/**
 * This device's sync state: the cursor and remote tree it pulled, the synced base of every local
 * path, commits in flight, reports. Changes apply in memory at once and reach the journal at the
 * next flush, all of one flush in one line: a crash loses the unflushed tail as a whole, and every
 * step of the sync is written to be redone safely from an older state (content hashes, idempotency
 * keys and inode checks tell what is already done).
 */
export class ClientState {
  cursor = 0;
  readonly remote = new Map<string, RemoteNode>();
  readonly children = new Map<string, Set<string>>();
  readonly synced = new Map<string, SyncedEntry>();
  readonly pathOfNode = new Map<string, string>();
  readonly pending = new Map<string, PendingCommit>();
  readonly kept = new Set<string>();
  readonly chunks = new ChunkIndex();
  reports: Report[] = [];
  private queued: Mutation[] = [];

  private constructor(private readonly journal: Journal) {}

  /** readOnly: a look at the state of a folder another process may be syncing; never written. */
  static async open(journalDir: string, options: { readOnly?: boolean } = {}): Promise<ClientState> {
    const state = new ClientState(await openJournal(journalDir, options));
    const { snapshot, mutations } = await state.journal.load();
    if (snapshot !== null) {
      state.cursor = snapshot.cursor;
      for (const node of snapshot.remote) state.apply({ t: 'remote', id: node.nodeId, v: node });
      for (const [p, entry] of snapshot.synced) state.apply({ t: 'synced', p, v: entry });
      for (const commit of snapshot.pending) state.apply({ t: 'pending', k: commit.key, v: commit });
      state.reports = [...snapshot.reports];
      for (const p of snapshot.kept) state.kept.add(p);
    }
    for (const m of mutations) state.apply(m);
    return state;
  }

  private apply(m: Mutation): void {
    switch (m.t) {
      case 'remote': {
        const old = this.remote.get(m.id);
        if (old?.parentId != null) this.children.get(old.parentId)?.delete(m.id);
        if (m.v === null) this.remote.delete(m.id);
        else {
          this.remote.set(m.id, m.v);
          if (m.v.parentId !== null) {
            let siblings = this.children.get(m.v.parentId);
            if (siblings === undefined) this.children.set(m.v.parentId, (siblings = new Set()));
            siblings.add(m.id);
          }
        }
        return;
      }
      case 'synced': {
        const old = this.synced.get(m.p);
        if (old !== undefined) {
          if (this.pathOfNode.get(old.nodeId) === m.p) this.pathOfNode.delete(old.nodeId);
          if (old.kind === 'file') this.chunks.remove(m.p, old.chunks);
        }
        if (m.v === null) this.synced.delete(m.p);
        else {
          this.synced.set(m.p, m.v);
          this.pathOfNode.set(m.v.nodeId, m.p);
          if (m.v.kind === 'file') this.chunks.add(m.p, m.v.chunks);
        }
        return;
      }
      case 'cursor':
        this.cursor = m.v;
        return;
      case 'pending':
        if (m.v === null) this.pending.delete(m.k);
        else this.pending.set(m.k, m.v);
        return;
      case 'report':
        this.reports.push(m.v);
        if (this.reports.length > MAX_REPORTS) this.reports = this.reports.slice(-MAX_REPORTS);
        return;
      case 'kept':
        if (m.v) this.kept.add(m.p);
        else this.kept.delete(m.p);
        return;
      default: {
        const _exhaustive: never = m;
        return _exhaustive;
      }
    }
  }

  private record(m: Mutation): void {
    this.apply(m);
    this.queued.push(m);
  }

  setRemote(node: RemoteNode): void {
    this.record({ t: 'remote', id: node.nodeId, v: node });
  }
  dropRemote(nodeId: string): void {
    if (this.remote.has(nodeId)) this.record({ t: 'remote', id: nodeId, v: null });
  }
  setCursor(cursor: number): void {
    this.record({ t: 'cursor', v: cursor });
  }
  setSynced(path: string, entry: SyncedEntry | null): void {
    if (entry === null && !this.synced.has(path)) return;
    this.record({ t: 'synced', p: path, v: entry });
  }
  setPending(commit: PendingCommit): void {
    this.record({ t: 'pending', k: commit.key, v: commit });
  }
  dropPending(key: string): void {
    if (this.pending.has(key)) this.record({ t: 'pending', k: key, v: null });
  }
  report(report: Omit<Report, 'at'>): void {
    this.record({ t: 'report', v: { at: new Date().toISOString(), ...report } });
  }
  setKept(path: string, kept: boolean): void {
    if (this.kept.has(path) !== kept) this.record({ t: 'kept', p: path, v: kept });
  }

  /** Synced entries at or under path, shallowest first. */
  entriesWithin(path: string): [string, SyncedEntry][] {
    const found: [string, SyncedEntry][] = [];
    for (const entry of this.synced) if (isWithin(entry[0], path)) found.push(entry);
    return found.sort((a, b) => a[0].length - b[0].length);
  }

  /** Moves the synced entries at and under from to the same places under to (a rename of a folder moves its contents). */
  moveSynced(from: string, to: string): void {
    if (from === to) return;
    const moving = this.entriesWithin(from);
    for (const [p] of moving) this.setSynced(p, null);
    for (const [p, entry] of moving) this.setSynced(to + p.slice(from.length), entry);
  }

  /** Forgets the synced entries at and under path; answers them. */
  dropSyncedWithin(path: string): [string, SyncedEntry][] {
    const gone = this.entriesWithin(path);
    for (const [p] of gone) this.setSynced(p, null);
    return gone;
  }

  /** Writes what changed since the last flush, durably, as one transaction. */
  async flush(): Promise<void> {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    await this.journal.append(batch);
    if (this.journal.size > COMPACT_BYTES) await this.compact();
  }

  async compact(): Promise<void> {
    await this.flush();
    await this.journal.compact({
      version: 1,
      cursor: this.cursor,
      remote: [...this.remote.values()],
      synced: [...this.synced],
      pending: [...this.pending.values()],
      reports: this.reports,
      kept: [...this.kept],
    });
  }

  /** Bytes of journal since the last snapshot. */
  get journalBytes(): number {
    return this.journal.size;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.journal.close();
  }
}
