import { parentPort, workerData } from 'node:worker_threads';
import { BatchFolder, type FoldMode } from './batchFolder.js';
import { failureOf, type FromFoldWorker, type ToFoldWorker } from './foldProtocol.js';

// A fold worker's entry (folders.ts starts it; nothing imports it): one BatchFolder, fed in order.
const port = parentPort;
if (port === null) throw new Error('foldWorker.ts runs as a worker thread');
const folder = new BatchFolder((workerData as { mode: FoldMode }).mode);
port.on('message', (message: ToFoldWorker) => {
  let answer: FromFoldWorker;
  try {
    answer = message.kind === 'batch' ? { kind: 'folded', ...folder.foldBatch(message.batch, message.flushBytes) } : { kind: 'finished', ...folder.finish() };
  } catch (e) {
    answer = { kind: 'failed', failure: failureOf(e) };
  }
  // The rows' buffers move to the writing thread rather than being copied (each is its own ArrayBuffer).
  const copy = answer.kind === 'failed' ? null : answer.copy;
  port.postMessage(answer, copy === null ? [] : copy.flatMap(([, chunks]) => chunks.map((c) => c.buffer as ArrayBuffer)));
});
