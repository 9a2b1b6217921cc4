import crypto from 'node:crypto';
import { chunkStream, cutPoints, DEFAULT_CHUNKING } from '../src/client/chunking/fastcdc.js';
import { fmt, machine } from './support.js';

const MiB = 1024 * 1024;
const TOTAL_BYTES = 256 * MiB;
// What describeFile reads with; the SHA-256 baseline hashes slices of the same size.
const READ_BYTES = MiB;
// Best of a few runs: on a shared machine the slowest run measures the neighbours.
const RUNS = 3;

const pseudoRandomBytes = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer, 0, size >>> 2);
  let x = 0x2545f491;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return bytes;
};

async function* readsOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += READ_BYTES) yield bytes.subarray(at, at + READ_BYTES);
}

const megabytesPerSecond = async (op: () => Promise<unknown>): Promise<number> => {
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    await op();
    best = Math.min(best, performance.now() - started);
  }
  return TOTAL_BYTES / 1e6 / (best / 1000);
};

/**
 * Client-side chunking throughput on one core: FastCDC alone (whole buffer, and streamed in 1 MiB
 * reads as describeFile does), FastCDC + SHA-256 per chunk, against SHA-256 alone over 1 MiB slices.
 */
export const benchChunking = async (): Promise<void> => {
  const bytes = pseudoRandomBytes(TOTAL_BYTES);
  const sha256Alone = await megabytesPerSecond(async () => {
    for (let at = 0; at < bytes.length; at += READ_BYTES) crypto.createHash('sha256').update(bytes.subarray(at, at + READ_BYTES)).digest();
  });
  let chunks = 0;
  const cutOnly = await megabytesPerSecond(async () => (chunks = cutPoints(bytes).length));
  const streamOnly = await megabytesPerSecond(async () => {
    for await (const chunk of chunkStream(readsOf(bytes))) if (chunk.length === 0) throw new Error('empty chunk');
  });
  const streamAndHash = await megabytesPerSecond(async () => {
    for await (const chunk of chunkStream(readsOf(bytes))) crypto.createHash('sha256').update(chunk).digest();
  });

  const { minSize, avgSize, maxSize } = DEFAULT_CHUNKING;
  console.log(`\nchunking: ${TOTAL_BYTES / MiB} MiB of pseudo-random bytes in memory, best of ${RUNS}, on ${machine()}, ${new Date().toISOString()}`);
  console.log(`FastCDC min/avg/max ${minSize / 1024}/${avgSize / 1024}/${maxSize / 1024} KiB: ${chunks} chunks, mean ${fmt(TOTAL_BYTES / chunks / MiB, 3)} MiB`);
  console.log('| scenario | MB/s | ratio to SHA-256 alone |');
  console.log('|---|---|---|');
  for (const [label, rate] of [
    ['SHA-256 alone, 1 MiB slices (baseline)', sha256Alone],
    ['FastCDC cutPoints, whole buffer', cutOnly],
    ['FastCDC chunkStream, 1 MiB reads', streamOnly],
    ['FastCDC chunkStream + SHA-256 per chunk', streamAndHash],
  ] as const)
    console.log(`| ${label} | ${fmt(rate, 0)} | ${fmt(rate / sha256Alone, 2)} |`);
};
