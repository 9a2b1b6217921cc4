import { WorkspaceFold } from './fold.js';
import { decodeRanges, type RawBatch } from './read.js';
import { CopyBuffers, type CopyChunks } from './rows.js';

const WORKSPACE_STREAM = 'workspace-';

/**
 * Parses, decodes and folds batches of one share of the workspace streams, turning each finished
 * workspace into COPY text. The same code runs on the main thread (no workers) and in each fold
 * worker (foldWorker.ts). A stream split over several batches must reach one BatchFolder, in order:
 * the fold of the last stream seen stays open until a batch brings another stream or finish().
 */
export interface Folded {
  readonly events: number;
  readonly copy: CopyChunks | null;
}

export interface Finished {
  readonly events: number;
  readonly workspaces: number;
  readonly copy: CopyChunks;
}

/** 'rows': fold and write rows (a rebuild); 'decode': parse and decode only (what a rebuild is measured against). */
export type FoldMode = 'rows' | 'decode';

export class BatchFolder {
  private readonly buffers = new CopyBuffers();
  private fold: WorkspaceFold | null = null;
  private streamId = '';
  events = 0;
  workspaces = 0;

  constructor(private readonly mode: FoldMode = 'rows') {}

  private apply(batch: RawBatch): void {
    const events = decodeRanges(batch.ranges, batch.rows);
    if (this.mode === 'decode') {
      this.events += events.length;
      return;
    }
    for (const e of events) {
      if (e.streamId !== this.streamId) {
        if (this.fold !== null) this.buffers.add(this.fold.rows());
        this.streamId = e.streamId;
        this.fold = new WorkspaceFold(e.streamId.slice(WORKSPACE_STREAM.length));
        this.workspaces++;
      }
      this.fold?.apply(e);
      this.events++;
    }
  }

  /** Applies a batch; hands over the rows buffered so far once they reach flushBytes. */
  foldBatch(batch: RawBatch, flushBytes: number): Folded {
    const before = this.events;
    this.apply(batch);
    return { events: this.events - before, copy: this.buffers.bytes >= flushBytes ? this.buffers.take() : null };
  }

  /** Closes the open fold and hands over everything left. */
  finish(): Finished {
    if (this.fold !== null) this.buffers.add(this.fold.rows());
    this.fold = null;
    this.streamId = '';
    return { events: this.events, workspaces: this.workspaces, copy: this.buffers.take() };
  }
}
