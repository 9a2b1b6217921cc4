import { parentPort } from 'node:worker_threads';
import { describeLocalFile } from '../local/describe.js';
import type { DescribeAnswer, DescribeRequest } from './describeProtocol.js';

// The describe worker's entry (describer.ts starts it; nothing imports it): one file at a time, in order.
const port = parentPort;
if (port === null) throw new Error('describeWorker.ts runs as a worker thread');
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: DescribeRequest) => {
  queue = queue.then(async () => {
    const known = request.newChunks ? new Set(request.previous.map((c) => c.hash)) : null;
    let answer: DescribeAnswer;
    try {
      const description = await describeLocalFile(
        request.file,
        request.sizeHint,
        request.previous,
        request.newChunks
          ? (chunk, bytes) => {
              if (known?.has(chunk.hash) === true) return;
              // A copy of its own (the reader reuses its blocks), moved to the main thread.
              const copy = new Uint8Array(bytes);
              port.postMessage({ kind: 'chunk', id: request.id, chunk, bytes: copy } satisfies DescribeAnswer, [copy.buffer]);
            }
          : undefined,
      );
      answer = { kind: 'described', id: request.id, description };
    } catch (e) {
      answer = { kind: 'failed', id: request.id, message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(answer);
  });
});
