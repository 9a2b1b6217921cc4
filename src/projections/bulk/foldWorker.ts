import { parentPort, workerData } from 'node:worker_threads';
import { EventDecodeError } from '../../storage/eventlog/errors.js';
import { BatchFolder, type FoldMode } from './batchFolder.js';
import type { RawBatch } from './read.js';
import type { CopyChunks } from './rows.js';

/** What the builder sends a fold worker. */
export type ToFoldWorker = { readonly kind: 'batch'; readonly batch: RawBatch; readonly flushBytes: number } | { readonly kind: 'finish' };

/** A thrown error, as plain data (an EventDecodeError keeps what it needs to be rebuilt). */
export type WorkerFailure = { readonly message: string; readonly decode?: { readonly streamId: string; readonly version: number; readonly report: string } };

/** What a fold worker answers: one `folded` per batch, in order; `finished` after finish. */
export type FromFoldWorker =
  | { readonly kind: 'folded'; readonly events: number; readonly copy: CopyChunks | null }
  | { readonly kind: 'finished'; readonly events: number; readonly workspaces: number; readonly copy: CopyChunks }
  | { readonly kind: 'failed'; readonly failure: WorkerFailure };

export const failureOf = (e: unknown): WorkerFailure =>
  e instanceof EventDecodeError
    ? { message: e.message, decode: { streamId: e.streamId, version: e.version, report: e.report } }
    : { message: e instanceof Error ? e.message : String(e) };

export const errorOf = (f: WorkerFailure): Error =>
  f.decode === undefined ? new Error(`rebuild fold worker: ${f.message}`) : new EventDecodeError(f.decode.streamId, f.decode.version, f.decode.report);

const port = parentPort;
if (port !== null) {
  const folder = new BatchFolder((workerData as { mode: FoldMode }).mode);
  port.on('message', (message: ToFoldWorker) => {
    let answer: FromFoldWorker;
    try {
      if (message.kind === 'batch') {
        const before = folder.events;
        folder.apply(message.batch);
        answer = { kind: 'folded', events: folder.events - before, copy: folder.takeOver(message.flushBytes) };
      } else {
        answer = { kind: 'finished', events: folder.events, workspaces: folder.workspaces, copy: folder.finish() };
      }
    } catch (e) {
      answer = { kind: 'failed', failure: failureOf(e) };
    }
    // The rows' buffers move to the writing thread rather than being copied (each is its own ArrayBuffer).
    const copy = answer.kind === 'failed' ? null : answer.copy;
    port.postMessage(answer, copy === null ? [] : copy.flatMap(([, chunks]) => chunks.map((c) => c.buffer as ArrayBuffer)));
  });
}
