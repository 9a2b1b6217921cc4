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
/** 'rows': fold and write rows (a rebuild); 'decode': parse and decode only (what a rebuild is measured against). */
export type FoldMode = 'rows' | 'decode';

export class BatchFolder {
  private readonly buffers = new CopyBuffers();
  private fold: WorkspaceFold | null = null;
  private streamId = '';
  events = 0;
  workspaces = 0;

  constructor(private readonly mode: FoldMode = 'rows') {}

  apply(batch: RawBatch): void {
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

  /** The COPY text buffered so far once it reaches flushBytes (null before). */
  takeOver(flushBytes: number): CopyChunks | null {
    return this.buffers.bytes >= flushBytes ? this.buffers.take() : null;
  }

  /** Closes the open fold and takes everything left. */
  finish(): CopyChunks {
    if (this.fold !== null) this.buffers.add(this.fold.rows());
    this.fold = null;
    this.streamId = '';
    return this.buffers.take();
  }
}
