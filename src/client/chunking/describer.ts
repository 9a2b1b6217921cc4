import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../concurrency/workerEntry.js';
import { describeLocalFile } from '../local/describe.js';
import type { DescribeAnswer, DescribeRequest } from './describeProtocol.js';
import type { FileChunk, FileDescription, OnChunk } from './hashChunks.js';

/**
 * Describes (chunks and hashes) new versions of files given the chunks of their previous versions,
 * as describeLocalFile does. The threaded one does it beside the main thread: reading and hashing
 * an edited 100 MiB file takes ~70 ms of CPU, which then overlaps the scan of the rest of the
 * folder (the scan starts it as soon as it meets the file) instead of following it.
 */
export interface Describer {
  describe(file: string, sizeHint: number, previous: readonly FileChunk[], onChunk?: OnChunk): Promise<FileDescription>;
  /** Starts the thread now, if there is one: loading it takes ~0.3 s, which a first describe would wait for. */
  warm(): void;
  close(): Promise<void>;
}

export const inThreadDescriber: Describer = {
  describe: (file, sizeHint, previous, onChunk) => describeLocalFile(file, sizeHint, previous, onChunk),
  warm: () => undefined,
  close: async () => undefined,
};

interface Waiting {
  readonly resolve: (d: FileDescription) => void;
  readonly reject: (e: Error) => void;
  readonly onChunk: OnChunk | undefined;
}

/** A describer with one worker thread, started at the first describe (or warm). If the thread dies, describes go on in this one. */
export const threadDescriber = (): Describer => {
  let worker: Worker | null = null;
  let broken = false;
  let nextId = 0;
  const waiting = new Map<number, Waiting>();
  const fail = (e: Error) => {
    broken = true;
    worker = null;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  const start = (): Worker => {
    if (worker !== null) return worker;
    const started = new Worker(workerEntry(import.meta.url, 'describeWorker'));
    // Idle, it never keeps the process alive; while a describe waits on it, it does.
    started.unref();
    started.on('message', (m: DescribeAnswer) => {
      const w = waiting.get(m.id);
      if (w === undefined) return;
      if (m.kind === 'chunk') return void w.onChunk?.(m.chunk, m.bytes);
      waiting.delete(m.id);
      if (waiting.size === 0) started.unref();
      if (m.kind === 'described') w.resolve(m.description);
      else w.reject(new Error(m.message));
    });
    started.on('error', (e) => fail(e));
    started.on('exit', (code) => fail(new Error(`the describe thread exited (code ${code})`)));
    return (worker = started);
  };
  return {
    describe: (file, sizeHint, previous, onChunk) => {
      if (broken) return inThreadDescriber.describe(file, sizeHint, previous, onChunk);
      return new Promise<FileDescription>((resolve, reject) => {
        const id = nextId++;
        const thread = start();
        waiting.set(id, { resolve, reject, onChunk });
        thread.ref();
        thread.postMessage({ id, file, sizeHint, previous, newChunks: onChunk !== undefined } satisfies DescribeRequest);
      });
    },
    warm: () => {
      if (!broken) start();
    },
    close: async () => {
      const stopping = worker;
      broken = true;
      worker = null;
      await stopping?.terminate();
    },
  };
};

/** A thread of its own where there is a core to spare for it. */
export const createDescriber = (): Describer => (os.availableParallelism() > 1 ? threadDescriber() : inThreadDescriber);
