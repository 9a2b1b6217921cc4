import { EventDecodeError } from '../../storage/eventlog/errors.js';
import type { Finished, Folded } from './batchFolder.js';
import type { RawBatch } from './read.js';

/** What the builder sends a fold worker. */
export type ToFoldWorker = { readonly kind: 'batch'; readonly batch: RawBatch; readonly flushBytes: number } | { readonly kind: 'finish' };

/** A thrown error, as plain data (an EventDecodeError keeps what it needs to be rebuilt). */
export type WorkerFailure = { readonly message: string; readonly decode?: { readonly streamId: string; readonly version: number; readonly report: string } };

/** What a fold worker answers: one `folded` per batch, in order; `finished` after finish. */
export type FromFoldWorker = ({ readonly kind: 'folded' } & Folded) | ({ readonly kind: 'finished' } & Finished) | { readonly kind: 'failed'; readonly failure: WorkerFailure };

export const failureOf = (e: unknown): WorkerFailure =>
  e instanceof EventDecodeError
    ? { message: e.message, decode: { streamId: e.streamId, version: e.version, report: e.report } }
    : { message: e instanceof Error ? e.message : String(e) };

export const errorOf = (f: WorkerFailure): Error =>
  f.decode === undefined ? new Error(`rebuild fold worker: ${f.message}`) : new EventDecodeError(f.decode.streamId, f.decode.version, f.decode.report);
