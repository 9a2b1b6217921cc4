import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCircuitBreaker } from '../../../src/storage/blobs/breaker.js';
import { createS3BlobStore } from '../../../src/storage/blobs/s3.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { startS3rver, type RunningS3rver } from '../../storage/blobs/s3rver-harness.js';
import { chunksOf, randomBytes, startTransfersGateway, type Account, type TransfersGateway } from './harness.js';

describe('a gateway over an S3 blob store', () => {
  let db: TestDatabase;
  let s3: RunningS3rver;
  let t: TransfersGateway;
  let me: Account;

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startS3rver();
    const store = await createS3BlobStore({ client: s3.client(), bucket: `strata-${crypto.randomBytes(6).toString('hex')}` });
    t = await startTransfersGateway(db, { blobs: withCircuitBreaker(store) });
    me = await t.newAccount();
  });
  afterAll(async () => {
    await t.gw.close();
    await s3.dispose();
    await db.drop();
  });

  it('takes chunks through the gateway (verified there), and hands out presigned S3 URLs to download them', async () => {
    const bytes = randomBytes(100_000);
    const chunks = chunksOf(bytes, 40_000);
    const request = await t.uploadRequest(me, me.rootId, 'on-s3.bin', chunks);
    const urls = request.body.uploadUrls as Record<string, string>;
    expect(Object.values(urls).every((u) => u.startsWith(`${t.gw.url}/v1/chunks/`))).toBe(true);
    expect((await t.putBytes(urls[chunks[0]?.hash as string] as string, randomBytes(10))).status).toBe(422);
    const file = await t.upload(me, me.rootId, 'on-s3.bin', chunks);
    expect(file.puts).toEqual([201, 201, 201]);

    const listed = (await t.call('GET', `/v1/files/${file.fileId}/download_request`, me)).body.chunks as Array<{ hash: string; url: string }>;
    expect(listed.every((c) => c.url.startsWith(`http://127.0.0.1:${s3.port}/`))).toBe(true);
    const fetched = await Promise.all(listed.map((c) => t.getBytes(c.url)));
    expect(Buffer.concat(fetched.map((f) => f.bytes)).equals(bytes)).toBe(true);

    expect((await t.getBytes(`/v1/files/${file.fileId}/content`, me)).bytes.equals(bytes)).toBe(true);
    const part = await t.getBytes(`/v1/files/${file.fileId}/content`, me, { range: 'bytes=39990-80009' });
    expect(part.status).toBe(206);
    expect(part.bytes.equals(bytes.subarray(39990, 80010))).toBe(true);
  });
});
