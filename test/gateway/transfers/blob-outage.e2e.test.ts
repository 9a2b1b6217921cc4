import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCircuitBreaker } from '../../../src/storage/blobs/breaker.js';
import { createFilesystemBlobStore } from '../../../src/storage/blobs/filesystem.js';
import type { BlobStore } from '../../../src/storage/blobs/port.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { chunksOf, randomBytes, refsOf, startTransfersGateway, type Account, type TransfersGateway } from './harness.js';

/** A real filesystem store that can be switched off: every call then fails as a dead disk or network would. */
const switchable = (store: BlobStore) => {
  let down = false;
  const guard = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    down ? Promise.reject(new Error('EIO: simulated outage')) : f(...args);
  const blobs: BlobStore = {
    put: guard(store.put),
    stat: guard(store.stat),
    get: guard(store.get),
    delete: guard(store.delete),
    list: () => store.list(),
    ping: guard(store.ping),
  };
  return { blobs, setDown: (value: boolean) => void (down = value) };
};

describe('a gateway whose blob store is down', () => {
  let db: TestDatabase;
  let t: TransfersGateway;
  let me: Account;
  let dir: string;
  let store: ReturnType<typeof switchable>;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-outage-'));
    store = switchable(await createFilesystemBlobStore({ root: dir }));
    const blobs = withCircuitBreaker(store.blobs, { volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeoutMs: 300 });
    t = await startTransfersGateway(db, { blobs });
    me = await t.newAccount();
  });
  afterAll(async () => {
    await t.gw.close();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers byte transfers with 503 unavailable and Retry-After, while metadata calls keep answering', async () => {
    const bytes = randomBytes(10_000);
    const file = await t.upload(me, me.rootId, 'kept.bin', chunksOf(bytes, 4096));
    const next = chunksOf(randomBytes(3000), 4096);
    const request = await t.uploadRequest(me, me.rootId, 'later.bin', next);
    const putUrl = (request.body.uploadUrls as Record<string, string>)[next[0]?.hash as string] as string;
    const chunkUrl = ((await t.call('GET', `/v1/files/${file.fileId}/download_request`, me)).body.chunks as Array<{ url: string }>)[0]?.url as string;

    store.setDown(true);
    const before = await t.snapshot();
    // The first failure reaches the store; once the circuit is open, calls fail without trying.
    for (const attempt of [1, 2]) {
      const put = await t.putBytes(putUrl, next[0]?.bytes as Buffer);
      expect(put.status, `put ${attempt}`).toBe(503);
      expect(put.body.error?.code).toBe('unavailable');
      expect(Number(put.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    for (const url of [`/v1/files/${file.fileId}/content`, chunkUrl]) {
      const get = await t.call('GET', url, me);
      expect(get.status, url).toBe(503);
      expect(get.body.error?.code).toBe('unavailable');
      expect(Number(get.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(await t.snapshot()).toEqual(before);

    // Metadata: reads of the tree and of versions, and starting an upload, need no bytes.
    expect((await t.call('GET', `/v1/files/${file.fileId}/download_request`, me)).status).toBe(200);
    expect((await t.uploadRequest(me, me.rootId, 'later.bin', next)).status).toBe(200);
    expect((await t.call('GET', `/v1/workspaces/${me.workspaceId}`, me)).status).toBe(200);
    expect((await t.call('GET', `/v1/nodes/${file.fileId}`, me)).status).toBe(200);
    // Chunks the workspace holds can still be committed into a new file.
    const copy = await t.commit(me, { parentId: me.rootId, name: 'copy.bin', chunks: refsOf(chunksOf(bytes, 4096)), size: bytes.length, idempotencyKey: 'copy' });
    expect(copy.status).toBe(201);
    expect((await t.call('GET', '/readyz', null)).status).toBe(503);

    store.setDown(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await t.putBytes(putUrl, next[0]?.bytes as Buffer)).status).toBe(201);
    expect((await t.getBytes(`/v1/files/${copy.body.fileId}/content`, me)).bytes.equals(bytes)).toBe(true);
  });
});
