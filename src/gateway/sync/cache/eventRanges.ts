import type { ByteLru, Evictable } from './lru.js';

/** Versions per block: the unit the LRU evicts. Block k holds versions k*BLOCK+1 .. (k+1)*BLOCK. */
export const BLOCK_VERSIONS = 512;
/** Per event, beyond its JSON: the array slot and the string's header. */
const EVENT_OVERHEAD_BYTES = 48;
const BLOCK_OVERHEAD_BYTES = 200;

const blockOf = (version: number): number => Math.floor((version - 1) / BLOCK_VERSIONS);
const sizeOf = (json: string): number => json.length + EVENT_OVERHEAD_BYTES;

/**
 * One contiguous run of encoded events inside one block: items[i] is the event at version first + i.
 * A block never holds two runs: a run that neither overlaps nor touches it replaces it.
 */
class Block implements Evictable {
  constructor(
    private readonly owner: WorkspaceRanges,
    readonly index: number,
    public first: number,
    public items: string[],
    public bytes: number,
  ) {}

  get last(): number {
    return this.first + this.items.length - 1;
  }

  dropped(): void {
    this.owner.blockDropped(this);
  }
}

/** What the cache holds of one workspace: blocks of events, and the highest version it has heard of. */
export class WorkspaceRanges {
  readonly blocks = new Map<number, Block>();
  /** The highest version known to exist (from reads, commits and notifications); a hint, never an answer. */
  knownHead = 0;

  constructor(
    readonly workspaceId: string,
    private readonly emptied: (w: WorkspaceRanges) => void,
  ) {}

  blockDropped(block: Block): void {
    if (this.blocks.get(block.index) !== block) return;
    this.blocks.delete(block.index);
    if (this.blocks.size === 0) this.emptied(this);
  }
}

export interface EventRangesHooks {
  /** A workspace got its first block. */
  added?(workspaceId: string): void;
  /** A workspace lost its last block. */
  removed?(workspaceId: string): void;
}

/**
 * Encoded events of many workspaces, as contiguous runs keyed by version, in blocks that share one
 * LRU byte budget. It only ever answers with a run that has no hole: reading stops at the first
 * version it does not hold, so an evicted block in the middle simply ends the run there.
 * Callers put in only durable events (read from the log, or committed), so what it holds is immutable.
 */
export class EventRanges {
  private readonly workspaces = new Map<string, WorkspaceRanges>();

  constructor(
    private readonly lru: ByteLru<Evictable>,
    private readonly hooks: EventRangesHooks = {},
  ) {}

  workspace(workspaceId: string): WorkspaceRanges | undefined {
    return this.workspaces.get(workspaceId);
  }

  /** Up to max encoded events from version `from` on, with no hole (empty when `from` is not held). */
  contiguous(workspaceId: string, from: number, max: number): string[] {
    const w = this.workspaces.get(workspaceId);
    const out: string[] = [];
    if (w === undefined || from < 1) return out;
    let v = from;
    while (out.length < max) {
      const block = w.blocks.get(blockOf(v));
      if (block === undefined || v < block.first || v > block.last) break;
      this.lru.get(key(workspaceId, block.index));
      const start = v - block.first;
      const take = Math.min(block.items.length - start, max - out.length);
      for (let i = 0; i < take; i++) out.push(block.items[start + i] as string);
      v += take;
    }
    return out;
  }

  /** True when the event at version is held. */
  holds(workspaceId: string, version: number): boolean {
    const block = this.workspaces.get(workspaceId)?.blocks.get(blockOf(version));
    return block !== undefined && version >= block.first && version <= block.last;
  }

  /** Holds encoded[i] as the event at version first + i (a contiguous, durable run). */
  insert(workspaceId: string, first: number, encoded: readonly string[]): void {
    if (encoded.length === 0 || first < 1) return;
    for (let i = 0; i < encoded.length; ) {
      const v = first + i;
      const index = blockOf(v);
      const n = Math.min(encoded.length - i, (index + 1) * BLOCK_VERSIONS - v + 1);
      // Looked up per block: under a tiny budget, inserting one block can evict the workspace's others.
      const w = this.workspaceFor(workspaceId);
      w.knownHead = Math.max(w.knownHead, first + encoded.length - 1);
      this.mergeInto(w, index, v, encoded.slice(i, i + n));
      i += n;
    }
  }

  /** Notes that version `head` exists; answers the previous hint. */
  heard(workspaceId: string, head: number): number | undefined {
    const w = this.workspaces.get(workspaceId);
    if (w === undefined) return undefined;
    const before = w.knownHead;
    w.knownHead = Math.max(before, head);
    return before;
  }

  /** Workspaces held, for closing. */
  workspaceIds(): string[] {
    return [...this.workspaces.keys()];
  }

  private workspaceFor(workspaceId: string): WorkspaceRanges {
    let w = this.workspaces.get(workspaceId);
    if (w === undefined) {
      w = new WorkspaceRanges(workspaceId, (gone) => this.emptied(gone));
      this.workspaces.set(workspaceId, w);
      this.hooks.added?.(workspaceId);
    }
    return w;
  }

  private mergeInto(w: WorkspaceRanges, index: number, from: number, run: string[]): void {
    const runBytes = (items: readonly string[]) => items.reduce((sum, json) => sum + sizeOf(json), BLOCK_OVERHEAD_BYTES);
    const to = from + run.length - 1;
    let block = w.blocks.get(index);
    if (block === undefined) {
      block = new Block(w, index, from, run, runBytes(run));
      w.blocks.set(index, block);
    } else if (to < block.first - 1 || from > block.last + 1) {
      // Two runs with a hole between them in one block: keep the longer (the newer on a tie).
      if (run.length < block.items.length || (run.length === block.items.length && from < block.first)) return;
      block.first = from;
      block.items = run;
      block.bytes = runBytes(run);
    } else if (from < block.first || to > block.last) {
      const lo = Math.min(from, block.first);
      const hi = Math.max(to, block.last);
      const merged = new Array<string>(hi - lo + 1);
      let added = 0;
      for (let i = 0; i < run.length; i++) {
        const v = from + i;
        merged[v - lo] = run[i] as string;
        if (v < block.first || v > block.last) added += sizeOf(run[i] as string);
      }
      for (let i = 0; i < block.items.length; i++) merged[block.first + i - lo] = block.items[i] as string;
      block.first = lo;
      block.items = merged;
      block.bytes += added;
    } else return; // already held: events never change once durable
    this.lru.set(key(w.workspaceId, index), block, block.bytes);
  }

  private emptied(w: WorkspaceRanges): void {
    if (this.workspaces.get(w.workspaceId) !== w) return;
    this.workspaces.delete(w.workspaceId);
    this.hooks.removed?.(w.workspaceId);
  }
}

const key = (workspaceId: string, index: number): string => `b\u0000${workspaceId}\u0000${index}`;
