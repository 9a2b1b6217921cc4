import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../concurrency/workerEntry.js';
import { BatchFolder, type Finished, type FoldMode, type Folded } from './batchFolder.js';
import { errorOf, type FromFoldWorker, type ToFoldWorker } from './foldProtocol.js';
import type { RawBatch } from './read.js';

/** Where batches are parsed, decoded and folded: this thread, or a worker thread. */
export interface Folder {
  fold(batch: RawBatch, flushBytes: number): Promise<Folded>;
  finish(): Promise<Finished>;
  close(): Promise<void>;
}

/** One fold worker per core, up to four: beyond that Postgres, not Node, is what a rebuild waits on. */
export const defaultFoldWorkers = (): number => Math.min(4, os.availableParallelism());

export const inThreadFolder = (mode: FoldMode): Folder => {
  const folder = new BatchFolder(mode);
  return {
    fold: async (batch, flushBytes) => folder.foldBatch(batch, flushBytes),
    finish: async () => folder.finish(),
    close: async () => undefined,
  };
};

export const workerFolder = (mode: FoldMode): Folder => {
  const worker = new Worker(workerEntry(import.meta.url, 'foldWorker'), { workerData: { mode } });
  // Answers come back in the order the requests went out.
  const waiting: { resolve: (m: FromFoldWorker) => void; reject: (e: Error) => void }[] = [];
  let broken: Error | null = null;
  const breakAll = (e: Error) => {
    broken ??= e;
    for (const w of waiting.splice(0)) w.reject(e);
  };
  worker.on('message', (m: FromFoldWorker) => {
    if (m.kind === 'failed') breakAll(errorOf(m.failure));
    else waiting.shift()?.resolve(m);
  });
  worker.on('error', (e) => breakAll(e));
  worker.on('exit', (code) => breakAll(new Error(`rebuild fold worker exited (code ${code})`)));
  const ask = (message: ToFoldWorker): Promise<FromFoldWorker> => {
    if (broken !== null) return Promise.reject(broken);
    return new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      worker.postMessage(message);
    });
  };
  return {
    fold: async (batch, flushBytes) => {
      const m = await ask({ kind: 'batch', batch, flushBytes });
      if (m.kind !== 'folded') throw new Error(`rebuild fold worker answered ${m.kind} to a batch`);
      return m;
    },
    finish: async () => {
      const m = await ask({ kind: 'finish' });
      if (m.kind !== 'finished') throw new Error(`rebuild fold worker answered ${m.kind} to finish`);
      return m;
    },
    close: async () => {
      broken ??= new Error('rebuild fold worker closed');
      await worker.terminate();
    },
  };
};
