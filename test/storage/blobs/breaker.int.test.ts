import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withCircuitBreaker, type CircuitState, type GuardedBlobStore } from '../../../src/storage/blobs/breaker.js';
import { BlobBodyError, BlobStoreUnavailableError } from '../../../src/storage/blobs/errors.js';
import { createFilesystemBlobStore } from '../../../src/storage/blobs/filesystem.js';
import { createS3BlobStore } from '../../../src/storage/blobs/s3.js';
import { randomChunk, sleep } from './chunks.js';
import { startS3rver, type RunningS3rver } from './s3rver-harness.js';

const failFast = { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 700, timeoutMs: 400 };

describe('an S3 store behind a circuit breaker', () => {
  let s3: RunningS3rver;
  let store: GuardedBlobStore;
  let states: CircuitState[];
  beforeEach(async () => {
    s3 = await startS3rver();
    const inner = await createS3BlobStore({ client: s3.client({ keepAlive: false }), bucket: `strata-${crypto.randomBytes(4).toString('hex')}` });
    store = withCircuitBreaker(inner, failFast);
    states = [];
    store.circuit.onStateChange((state) => states.push(state));
  });
  afterEach(async () => {
    store.circuit.shutdown();
    await s3.dispose();
  });

  it('works normally while the server is up', async () => {
    const chunk = randomChunk(1000);
    expect(await store.put(chunk.hash, chunk.bytes)).toMatchObject({ ok: true, created: true });
    expect(await store.stat(chunk.hash)).toEqual({ size: 1000 });
    expect(store.circuit.state()).toBe('closed');
  });

  describe('whose server stopped', () => {
    beforeEach(async () => s3.stop());

    it('opens after repeated failures, then fails fast with BlobStoreUnavailableError', async () => {
      const { hash } = randomChunk(10);
      for (let i = 0; i < 3; i += 1) await expect(store.stat(hash)).rejects.toThrow(/ECONNREFUSED/);
      expect(store.circuit.state()).toBe('open');
      expect(states).toEqual(['open']);

      const started = performance.now();
      const failure = await store.ping().catch((error: unknown) => error);
      expect(performance.now() - started).toBeLessThan(20);
      expect(failure).toBeInstanceOf(BlobStoreUnavailableError);
      expect((failure as BlobStoreUnavailableError).retryAfterSeconds).toBe(1);
      await expect(store.put(hash, Buffer.alloc(10))).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      await expect(store.presign!.getUrl(hash, 60)).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      expect(store.circuit.stats()).toMatchObject({ failures: 3, rejects: 3 });
    });

    it('closes again once the server is back and a trial call succeeds', async () => {
      const chunk = randomChunk(1000);
      for (let i = 0; i < 3; i += 1) await expect(store.ping()).rejects.toThrow();
      await s3.restart();
      await expect(store.ping()).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      await sleep(failFast.resetTimeoutMs + 100);
      expect(store.circuit.state()).toBe('half_open');
      expect(await store.put(chunk.hash, chunk.bytes)).toMatchObject({ ok: true });
      expect(store.circuit.state()).toBe('closed');
      expect(states).toEqual(['open', 'half_open', 'closed']);
    });
  });

  describe('whose server accepts connections but never answers', () => {
    let silent: net.Server;
    const held: net.Socket[] = [];
    beforeEach(async () => {
      await s3.stop();
      silent = net.createServer((socket) => void held.push(socket));
      await new Promise<void>((resolve) => silent.listen(s3.port, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('times calls out as unavailable, and opens', async () => {
      const { hash } = randomChunk(10);
      for (let i = 0; i < 3; i += 1) {
        const started = performance.now();
        await expect(store.stat(hash)).rejects.toBeInstanceOf(BlobStoreUnavailableError);
        expect(performance.now() - started).toBeLessThan(failFast.timeoutMs + 200);
      }
      expect(store.circuit.state()).toBe('open');
      expect(store.circuit.stats().failures).toBe(3);
    });
  });
});

describe('a filesystem store behind a circuit breaker', () => {
  it('does not count a client that goes away against the store', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-blobs-'));
    const store = withCircuitBreaker(await createFilesystemBlobStore({ root }), { ...failFast, volumeThreshold: 1 });
    const chunk = randomChunk(1000);
    async function* abandoned(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(chunk.bytes.subarray(0, 100));
      throw new Error('socket hang up');
    }
    for (let i = 0; i < 5; i += 1) await expect(store.put(chunk.hash, abandoned())).rejects.toBeInstanceOf(BlobBodyError);
    expect(store.circuit.state()).toBe('closed');
    expect(store.circuit.stats().failures).toBe(0);
    expect(await store.put(chunk.hash, chunk.bytes)).toMatchObject({ ok: true });
    store.circuit.shutdown();
    fs.rmSync(root, { recursive: true, force: true });
  });
});
