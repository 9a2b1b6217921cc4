import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionId } from '../../../src/domain/ids.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { contentHashOf } from '../../support/workspaceCommands.js';
import { chunksOf, randomBytes, refsOf, sha256, startTransfersGateway, type Account, type TransfersGateway } from './harness.js';

describe('uploading and downloading a file', () => {
  let db: TestDatabase;
  let t: TransfersGateway;
  let me: Account;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTransfersGateway(db);
    me = await t.newAccount();
  });
  afterAll(async () => {
    await t.gw.close();
    await db.drop();
  });

  describe('a new file of several chunks', () => {
    const bytes = randomBytes(300_000);
    const chunks = chunksOf(bytes, 64 * 1024);
    let fileId: string;
    let versionId: string;

    it('is uploaded chunks first, then committed, and answers the cursor its event reached', async () => {
      const request = await t.uploadRequest(me, me.rootId, 'photo.raw', chunks);
      expect(request.status).toBe(200);
      expect(request.body.missing).toEqual(chunks.map((c) => c.hash));
      expect(Object.keys(request.body.uploadUrls as object).sort()).toEqual(chunks.map((c) => c.hash).sort());
      const expiresAt = Date.parse(request.body.expiresAt as string);
      expect(expiresAt).toBeGreaterThan(Date.now());
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 10 * 60_000);
      expect(typeof request.body.uploadId).toBe('string');

      for (const chunk of chunks) {
        const url = (request.body.uploadUrls as Record<string, string>)[chunk.hash] as string;
        expect(url.startsWith(`${t.gw.url}/v1/chunks/${chunk.hash}?`)).toBe(true);
        const put = await t.putBytes(url, chunk.bytes);
        expect(put.status).toBe(201);
        expect(put.body).toEqual({ hash: chunk.hash, size: chunk.size });
        // Re-sending is safe: the same answer but 200, nothing new kept.
        expect((await t.putBytes(url, chunk.bytes, {})).status).toBe(200);
      }

      const cursor = await t.cursorOf(me);
      const commit = await t.commit(me, { parentId: me.rootId, name: 'photo.raw', chunks: refsOf(chunks), size: bytes.length, idempotencyKey: 'first' });
      expect(commit.status).toBe(201);
      expect(commit.body.cursor).toBe(cursor + 1);
      expect(await t.cursorOf(me)).toBe(cursor + 1);
      fileId = commit.body.fileId as string;
      versionId = commit.body.versionId as string;
      const { rows } = await db.pool.query('SELECT size, content_hash, chunks FROM rm.versions WHERE workspace_id = $1 AND version_id = $2', [me.workspaceId, versionId]);
      expect(rows[0]).toEqual({ size: String(bytes.length), content_hash: contentHashOf(refsOf(chunks) as never), chunks: refsOf(chunks) });
    });

    it('is described by download_request, whose URLs give back each chunk exactly', async () => {
      const answer = await t.call('GET', `/v1/files/${fileId}/download_request`, me);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ versionId, size: bytes.length });
      const listed = answer.body.chunks as Array<{ hash: string; size: number; url: string }>;
      expect(listed.map(({ hash, size }) => ({ hash, size }))).toEqual(refsOf(chunks));
      const fetched = await Promise.all(listed.map((c) => t.getBytes(c.url)));
      expect(fetched.map((f) => f.status)).toEqual(listed.map(() => 200));
      expect(Buffer.concat(fetched.map((f) => f.bytes)).equals(bytes)).toBe(true);
      // A chunk URL serves ranges too.
      const part = await t.getBytes(listed[1]?.url as string, null, { range: 'bytes=10-19' });
      expect(part.status).toBe(206);
      expect(part.bytes.equals(chunks[1]?.bytes.subarray(10, 20) as Buffer)).toBe(true);
      // The version can be named explicitly.
      expect((await t.call('GET', `/v1/files/${fileId}/download_request?versionId=${versionId}`, me)).body.versionId).toBe(versionId);
    });

    it('streams its content whole, with its length and Accept-Ranges', async () => {
      const whole = await t.getBytes(`/v1/files/${fileId}/content`, me);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-length')).toBe(String(bytes.length));
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(whole.bytes.equals(bytes)).toBe(true);
    });

    it('serves single ranges that cross chunk boundaries, suffix and open ranges, and 416 past the end', async () => {
      const cases: Array<[string, number, number]> = [
        ['bytes=0-0', 0, 0],
        ['bytes=65530-131080', 65530, 131080],
        ['bytes=100000-', 100000, bytes.length - 1],
        ['bytes=-1000', bytes.length - 1000, bytes.length - 1],
        ['bytes=299990-999999', 299990, bytes.length - 1],
      ];
      for (const [range, start, end] of cases) {
        const part = await t.getBytes(`/v1/files/${fileId}/content`, me, { range });
        expect(part.status, range).toBe(206);
        expect(part.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${bytes.length}`);
        expect(part.headers.get('content-length'), range).toBe(String(end - start + 1));
        expect(part.bytes.equals(bytes.subarray(start, end + 1)), range).toBe(true);
      }
      const past = await t.getBytes(`/v1/files/${fileId}/content`, me, { range: `bytes=${bytes.length}-` });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      // Several ranges, or a malformed header, are ignored: the whole content.
      expect((await t.getBytes(`/v1/files/${fileId}/content`, me, { range: 'bytes=0-1,5-6' })).bytes.equals(bytes)).toBe(true);
      expect((await t.getBytes(`/v1/files/${fileId}/content`, me, { range: 'pages=1-2' })).status).toBe(200);
    });

    it('is uploaded again without sending a byte: nothing is missing', async () => {
      const filesBefore = t.storedChunkFiles();
      const again = await t.upload(me, me.rootId, 'copy of photo.raw', chunks);
      expect(again.missing).toEqual([]);
      expect(again.puts).toEqual([]);
      expect(t.storedChunkFiles()).toEqual(filesBefore);
      expect((await t.getBytes(`/v1/files/${again.fileId}/content`, me)).bytes.equals(bytes)).toBe(true);
    });
  });

  describe('a second workspace uploading the same bytes', () => {
    it('is told every chunk is missing (no oracle), must send them, and they are stored once', async () => {
      const bytes = randomBytes(150_000);
      const chunks = chunksOf(bytes, 64 * 1024);
      const other = await t.newAccount();
      await t.upload(me, me.rootId, 'shared.bin', chunks);
      const filesAfterFirst = t.storedChunkFiles();

      const request = await t.uploadRequest(other, other.rootId, 'shared.bin', chunks);
      expect(request.body.missing).toEqual(chunks.map((c) => c.hash));
      // Without sending the bytes, it cannot commit them.
      const premature = await t.commit(other, { parentId: other.rootId, name: 'shared.bin', chunks: refsOf(chunks), size: bytes.length, idempotencyKey: 'k' });
      expect(premature.status).toBe(422);
      expect(premature.body.error?.code).toBe('missing_chunks');
      expect((premature.body.error?.details.missing as string[]).sort()).toEqual(chunks.map((c) => c.hash).sort());
      // Its bytes are still hashed: wrong bytes are refused even though the chunk is stored.
      const [first] = chunks;
      const firstUrl = (request.body.uploadUrls as Record<string, string>)[first?.hash as string] as string;
      expect((await t.putBytes(firstUrl, randomBytes(first?.size as number))).status).toBe(422);

      const upload = await t.upload(other, other.rootId, 'shared.bin', chunks);
      expect(upload.puts).toEqual(chunks.map(() => 201));
      expect(t.storedChunkFiles()).toEqual(filesAfterFirst);
      for (const c of chunks) expect(t.storedChunkFiles().filter((f) => f === c.hash)).toHaveLength(1);
      expect((await t.getBytes(`/v1/files/${upload.fileId}/content`, other)).bytes.equals(bytes)).toBe(true);
    });
  });

  describe('an empty file', () => {
    it('has no chunks; its content hash is SHA-256 of nothing and its content is empty', async () => {
      const up = await t.upload(me, me.rootId, 'empty.txt', []);
      expect(up.missing).toEqual([]);
      const { rows } = await db.pool.query('SELECT content_hash FROM rm.versions WHERE workspace_id = $1 AND version_id = $2', [me.workspaceId, up.versionId]);
      expect(rows[0]?.content_hash).toBe(sha256(Buffer.alloc(0)));
      const content = await t.getBytes(`/v1/files/${up.fileId}/content`, me);
      expect(content.status).toBe(200);
      expect(content.headers.get('content-length')).toBe('0');
      expect(content.bytes.length).toBe(0);
      expect((await t.call('GET', `/v1/files/${up.fileId}/download_request`, me)).body).toEqual({ versionId: up.versionId, size: 0, chunks: [] });
    });
  });

  describe('a file with versions', () => {
    it('takes a new version from its latest one, and refuses a stale base with version_conflict naming the latest', async () => {
      const v1 = chunksOf(Buffer.from('first version'), 1024);
      const v2 = chunksOf(Buffer.from('second version'), 1024);
      const v3 = chunksOf(Buffer.from('third, from a stale base'), 1024);
      const first = await t.upload(me, me.rootId, 'notes.md', v1);
      const second = await t.upload(me, me.rootId, 'notes.md', v2, { fileId: first.fileId, baseVersionId: first.versionId });
      expect(second.fileId).toBe(first.fileId);

      // The stale edit's bytes are uploaded, then its commit is refused.
      await t.putBytes(((await t.uploadRequest(me, me.rootId, 'notes.md', v3)).body.uploadUrls as Record<string, string>)[v3[0]?.hash as string] as string, v3[0]?.bytes as Buffer);
      const before = await t.snapshot();
      const stale = await t.commit(me, { parentId: me.rootId, name: 'notes.md', fileId: first.fileId, baseVersionId: first.versionId, chunks: refsOf(v3), size: v3[0]?.size, idempotencyKey: 'stale' });
      expect(stale.status).toBe(409);
      expect(stale.body.error?.code).toBe('version_conflict');
      expect(stale.body.error?.details.latestVersionId).toBe(second.versionId);
      expect(await t.snapshot()).toEqual(before);

      expect((await t.getBytes(`/v1/files/${first.fileId}/content`, me)).bytes.toString()).toBe('second version');
      expect((await t.getBytes(`/v1/files/${first.fileId}/content?versionId=${first.versionId}`, me)).bytes.toString()).toBe('first version');
    });

    it('answers a purged version with 410 gone, and its chunks are no longer served', async () => {
      const v1 = chunksOf(randomBytes(5000), 4096);
      const v2 = chunksOf(randomBytes(100), 4096);
      const first = await t.upload(me, me.rootId, 'purged.bin', v1);
      const oldUrls = ((await t.call('GET', `/v1/files/${first.fileId}/download_request`, me)).body.chunks as Array<{ url: string }>).map((c) => c.url);
      await t.upload(me, me.rootId, 'purged.bin', v2, { fileId: first.fileId, baseVersionId: first.versionId });
      await t.run({
        type: 'PurgeNode',
        workspaceId: me.workspaceId as never,
        data: { nodeId: first.fileId as never, versionIds: [first.versionId as VersionId] },
        metadata: t.meta(me),
      });
      const content = await t.call('GET', `/v1/files/${first.fileId}/content?versionId=${first.versionId}`, me);
      expect(content.status).toBe(410);
      expect(content.body.error?.code).toBe('gone');
      expect((await t.call('GET', `/v1/files/${first.fileId}/download_request?versionId=${first.versionId}`, me)).status).toBe(410);
      // The URLs handed out before the purge stop working: the workspace no longer references those chunks.
      for (const url of oldUrls) expect((await t.getBytes(url)).status).toBe(404);
      expect((await t.getBytes(`/v1/files/${first.fileId}/content`, me)).bytes.equals(v2[0]?.bytes as Buffer)).toBe(true);
    });
  });

  describe('a commit repeated with its idempotency key', () => {
    it('returns the first answer and appends one event only', async () => {
      const chunks = chunksOf(randomBytes(2000), 1024);
      const request = await t.uploadRequest(me, me.rootId, 'once.txt', chunks);
      for (const c of chunks) await t.putBytes((request.body.uploadUrls as Record<string, string>)[c.hash] as string, c.bytes);
      const body = { parentId: me.rootId, name: 'once.txt', chunks: refsOf(chunks), size: 2000, idempotencyKey: 'commit-once' };
      const before = await t.snapshot();
      const cursor = await t.cursorOf(me);
      const first = await t.commit(me, body);
      const again = await t.commit(me, body);
      const concurrent = await Promise.all([t.commit(me, body), t.commit(me, body)]);
      expect(first.status).toBe(201);
      for (const answer of [again, ...concurrent]) {
        expect(answer.status).toBe(201);
        expect(answer.body).toEqual(first.body);
      }
      expect(first.body.cursor).toBe(cursor + 1);
      expect(await t.cursorOf(me)).toBe(cursor + 1);
      expect((await t.snapshot()).events).toBe(before.events + 1);
      // Keys are per workspace: another workspace's identical key is its own.
      const other = await t.newAccount();
      const theirs = await t.upload(other, other.rootId, 'once.txt', chunks);
      expect(theirs.fileId).not.toBe(first.body.fileId);
    });
  });
});
