import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { chunksOf, movableClock, randomBytes, refsOf, sha256, startTransfersGateway, type Account, type Chunk, type TransfersGateway } from './harness.js';

const MiB = 1024 * 1024;
const hex = (n: number) => 'a'.repeat(n);

describe('transfers refusing bad requests, changing nothing', () => {
  let db: TestDatabase;
  let t: TransfersGateway;
  let me: Account;
  let other: Account;
  let docs: string;
  let otherFolder: string;
  let existing: { fileId: string; versionId: string };
  let otherFile: { fileId: string; versionId: string };
  const clock = movableClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTransfersGateway(db, { now: clock.now });
    me = await t.newAccount();
    other = await t.newAccount();
    docs = await t.newFolder(me, 'Docs');
    otherFolder = await t.newFolder(other, 'Theirs');
    existing = await t.upload(me, docs, 'R\u00e9sum\u00e9.txt', chunksOf(Buffer.from('my resume'), 1024));
    otherFile = await t.upload(other, otherFolder, 'secret.txt', chunksOf(Buffer.from('their secret'), 1024));
  });
  afterAll(async () => {
    await t.gw.close();
    await db.drop();
  });

  /** The request is answered with status and code, and no table, log or chunk file changed. */
  const refused = async (what: string, send: () => Promise<{ status: number; body: { error?: { code: string; details: Record<string, unknown> } } }>, status: number, code: string, field?: string) => {
    const before = await t.snapshot();
    const answer = await send();
    expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
    expect(answer.body.error?.code, what).toBe(code);
    if (field !== undefined) expect(answer.body.error?.details.field, what).toBe(field);
    expect(await t.snapshot(), what).toEqual(before);
    return answer;
  };

  describe('upload_request', () => {
    const chunk = { hash: sha256('x'), size: 1 };
    const valid = () => ({ workspaceId: me.workspaceId, parentId: docs, fileName: 'a.txt', fileSize: 1, chunks: [chunk] });
    const cases: Array<[string, () => Record<string, unknown>, number, string, string?]> = [
      ['fileSize of the wrong type', () => ({ ...valid(), fileSize: '1' }), 400, 'invalid_request', 'body.fileSize'],
      ['chunks missing', () => ({ ...valid(), chunks: undefined }), 400, 'invalid_request', 'body.chunks'],
      ['workspaceId missing', () => ({ ...valid(), workspaceId: undefined }), 400, 'invalid_request', 'body.workspaceId'],
      ['a hash in upper case', () => ({ ...valid(), chunks: [{ hash: chunk.hash.toUpperCase(), size: 1 }] }), 400, 'invalid_request', 'body.chunks[0].hash'],
      ['a hash too short', () => ({ ...valid(), chunks: [{ hash: hex(63), size: 1 }] }), 400, 'invalid_request', 'body.chunks[0].hash'],
      ['a chunk of 0 bytes', () => ({ ...valid(), fileSize: 0, chunks: [{ hash: chunk.hash, size: 0 }] }), 400, 'invalid_request', 'body.chunks[0].size'],
      ['a chunk over 16 MiB', () => ({ ...valid(), fileSize: 16 * MiB + 1, chunks: [{ hash: chunk.hash, size: 16 * MiB + 1 }] }), 400, 'invalid_request', 'body.chunks[0].size'],
      ['sizes that do not add up', () => ({ ...valid(), fileSize: 2 }), 400, 'invalid_request', 'body.fileSize'],
      ["a name with '/'", () => ({ ...valid(), fileName: 'a/b' }), 400, 'invalid_request', 'body.fileName'],
      ['a name with NUL', () => ({ ...valid(), fileName: 'a\u0000b' }), 400, 'invalid_request', 'body.fileName'],
      ["the name '..'", () => ({ ...valid(), fileName: '..' }), 400, 'invalid_request', 'body.fileName'],
      ['a name of 300 bytes', () => ({ ...valid(), fileName: 'n'.repeat(300) }), 400, 'invalid_request', 'body.fileName'],
      ['an empty name', () => ({ ...valid(), fileName: '' }), 400, 'invalid_request', 'body.fileName'],
      ['another workspace', () => ({ ...valid(), workspaceId: other.workspaceId }), 404, 'not_found'],
      ["a folder of another workspace", () => ({ ...valid(), parentId: otherFolder }), 404, 'not_found'],
      ['an unknown parent', () => ({ ...valid(), parentId: 'nope' }), 404, 'not_found'],
      ['a parent that is a file', () => ({ ...valid(), parentId: existing.fileId }), 400, 'invalid_request', 'body.parentId'],
    ];
    it.each(cases)('refuses %s', async (what, body, status, code, field) => {
      await refused(what, () => t.call('POST', '/v1/files/upload_request', me, body()), status, code, field);
    });

    it('refuses a caller without a valid token with 401', async () => {
      await refused('no token', () => t.call('POST', '/v1/files/upload_request', null, valid()), 401, 'unauthorized');
      await refused('bad token', () => t.call('POST', '/v1/files/upload_request', { ...me, token: 'nope' }, valid()), 401, 'unauthorized');
    });

    it('refuses malformed JSON', async () => {
      await refused('malformed', () => t.call('POST', '/v1/files/upload_request', me, '{"workspaceId":'), 400, 'invalid_request');
    });

    it('refuses a file larger than the whole quota with quota_exceeded', async () => {
      const small = await t.newAccount(1000);
      const body = { workspaceId: small.workspaceId, parentId: small.rootId, fileName: 'big', fileSize: 1001, chunks: [{ hash: chunk.hash, size: 1001 }] };
      await refused('over quota', () => t.call('POST', '/v1/files/upload_request', small, body), 507, 'quota_exceeded');
    });
  });

  describe('chunk uploads', () => {
    let chunk: Chunk;
    let url: string;
    let otherUrl: string;
    beforeAll(async () => {
      const chunks = chunksOf(randomBytes(20_000), 10_000);
      chunk = chunks[0] as Chunk;
      const request = await t.uploadRequest(me, docs, 'c.bin', chunks);
      url = (request.body.uploadUrls as Record<string, string>)[chunk.hash] as string;
      otherUrl = (request.body.uploadUrls as Record<string, string>)[chunks[1]?.hash as string] as string;
    });
    const tamper = (u: string, key: string, value: (old: string) => string): string => {
      const parsed = new URL(u);
      parsed.searchParams.set(key, value(parsed.searchParams.get(key) ?? ''));
      return parsed.toString();
    };

    it('refuses bytes that do not hash to the chunk, keeping nothing', async () => {
      const answer = await refused('wrong bytes', () => t.putBytes(url, randomBytes(chunk.size)), 422, 'hash_mismatch');
      expect(answer.body.error?.details.expected).toBe(chunk.hash);
      await refused('one byte short', () => t.putBytes(url, chunk.bytes.subarray(1)), 422, 'hash_mismatch');
    });

    it("refuses a URL used for another chunk's hash", async () => {
      const otherHash = sha256('another chunk');
      await refused('other hash', () => t.putBytes(url.replace(chunk.hash, otherHash), Buffer.from('another chunk')), 403, 'forbidden');
      // A URL of one chunk cannot carry another chunk's (correct) bytes either.
      await refused('bytes of another chunk', () => t.putBytes(otherUrl, chunk.bytes), 422, 'hash_mismatch');
    });

    it('refuses a tampered signature, workspace or expiry', async () => {
      await refused('signature', () => t.putBytes(tamper(url, 's', (s) => `${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`), chunk.bytes), 403, 'forbidden');
      await refused('no signature', () => t.putBytes(tamper(url, 's', () => ''), chunk.bytes), 403, 'forbidden');
      await refused('workspace', () => t.putBytes(tamper(url, 'w', () => other.workspaceId), chunk.bytes), 403, 'forbidden');
      await refused('expiry', () => t.putBytes(tamper(url, 'e', (e) => String(Number(e) + 3600)), chunk.bytes), 403, 'forbidden');
    });

    it('refuses a URL after it expired', async () => {
      clock.advance(10 * 60_000 + 1000);
      try {
        const answer = await refused('expired', () => t.putBytes(url, chunk.bytes), 403, 'forbidden');
        expect(answer.body.error?.details.reason).toBe('expired');
      } finally {
        clock.advance(-(10 * 60_000 + 1000));
      }
    });

    it('refuses a body over 16 MiB, announced or streamed, with 413', async () => {
      const big = Buffer.alloc(16 * MiB + 1, 7);
      const bigHash = sha256(big);
      const request = await t.uploadRequest(me, docs, 'big.bin', [{ hash: bigHash, size: 16 * MiB, bytes: Buffer.alloc(0) }]);
      const bigUrl = (request.body.uploadUrls as Record<string, string>)[bigHash] as string;
      await refused('announced', () => t.putBytes(bigUrl, big), 413, 'payload_too_large');
      const streamed = async () => {
        const res = await fetch(bigUrl, { method: 'PUT', body: Readable.toWeb(Readable.from([big.subarray(0, 8 * MiB), big.subarray(8 * MiB)])) as ReadableStream, duplex: 'half' } as RequestInit);
        return { status: res.status, body: (await res.json()) as { error?: { code: string; details: Record<string, unknown> } } };
      };
      await refused('streamed', streamed, 413, 'payload_too_large');
      // The connection is still good for the next request.
      expect((await t.putBytes(url, chunk.bytes)).status).toBe(201);
    });

    it('refuses a download URL used to upload, and an upload URL used to download', async () => {
      const listed = (await t.call('GET', `/v1/files/${existing.fileId}/download_request`, me)).body.chunks as Array<{ hash: string; url: string }>;
      const getUrl = listed[0]?.url as string;
      await refused('GET URL for PUT', () => t.putBytes(getUrl, Buffer.from('my resume')), 403, 'forbidden');
      expect((await t.getBytes(url)).status).toBe(403);
    });
  });

  describe('commit', () => {
    let held: Chunk[];
    beforeAll(async () => {
      held = chunksOf(randomBytes(3000), 1000);
      const request = await t.uploadRequest(me, docs, 'h.bin', held);
      for (const c of held) await t.putBytes((request.body.uploadUrls as Record<string, string>)[c.hash] as string, c.bytes);
    });
    const valid = (): Record<string, unknown> => ({ parentId: docs, name: 'new.bin', chunks: refsOf(held), size: 3000, idempotencyKey: `k${Math.random()}` });
    const cases: Array<[string, () => Record<string, unknown>, number, string, string?]> = [
      ['size of the wrong type', () => ({ ...valid(), size: '3000' }), 400, 'invalid_request', 'body.size'],
      ['idempotencyKey missing', () => ({ ...valid(), idempotencyKey: undefined }), 400, 'invalid_request', 'body.idempotencyKey'],
      ['chunks not a list', () => ({ ...valid(), chunks: {} }), 400, 'invalid_request', 'body.chunks'],
      ['modifiedAt not a timestamp', () => ({ ...valid(), modifiedAt: 'yesterday' }), 400, 'invalid_request', 'body.modifiedAt'],
      ["a name with '/'", () => ({ ...valid(), name: 'a/b' }), 400, 'invalid_request', 'body.name'],
      ['a name with NUL', () => ({ ...valid(), name: 'a\u0000' }), 400, 'invalid_request', 'body.name'],
      ["the name '..'", () => ({ ...valid(), name: '..' }), 400, 'invalid_request', 'body.name'],
      ['a name of 300 bytes', () => ({ ...valid(), name: '\u00e9'.repeat(150) }), 400, 'invalid_request', 'body.name'],
      ['a name differing only by case', () => ({ ...valid(), name: 'R\u00c9SUM\u00c9.TXT' }), 409, 'name_conflict'],
      ['a name differing only by normalization (NFD)', () => ({ ...valid(), name: 'Re\u0301sume\u0301.txt' }), 409, 'name_conflict'],
      ['sizes that do not add up', () => ({ ...valid(), size: 2999 }), 400, 'invalid_request', 'body.size'],
      ['chunks never uploaded', () => ({ ...valid(), chunks: [...refsOf(held), { hash: sha256('never sent'), size: 10 }], size: 3010 }), 422, 'missing_chunks'],
      ['another workspace', () => ({ ...valid(), workspaceId: other.workspaceId }), 404, 'not_found'],
      ["a folder of another workspace", () => ({ ...valid(), parentId: otherFolder }), 404, 'not_found'],
      ["a file of another workspace", () => ({ ...valid(), fileId: otherFile.fileId, baseVersionId: otherFile.versionId }), 404, 'not_found'],
      ['a base version without its file', () => ({ ...valid(), baseVersionId: existing.versionId }), 400, 'invalid_request', 'body.fileId'],
      ['a stale (unknown) base version', () => ({ ...valid(), fileId: existing.fileId, baseVersionId: 'v-unknown' }), 409, 'version_conflict'],
    ];
    it.each(cases)('refuses %s', async (what, body, status, code, field) => {
      const answer = await refused(what, () => t.commit(me, body()), status, code, field);
      if (code === 'missing_chunks') expect(answer.body.error?.details.missing).toEqual([sha256('never sent')]);
      if (code === 'version_conflict') expect(answer.body.error?.details.latestVersionId).toBe(existing.versionId);
    });

    it('refuses a version beyond the quota with quota_exceeded', async () => {
      const small = await t.newAccount(3000);
      await t.upload(small, small.rootId, 'a.bin', chunksOf(randomBytes(2000), 1000));
      const more = chunksOf(randomBytes(2000), 1000);
      const request = await t.uploadRequest(small, small.rootId, 'b.bin', more);
      for (const c of more) await t.putBytes((request.body.uploadUrls as Record<string, string>)[c.hash] as string, c.bytes);
      const body = { parentId: small.rootId, name: 'b.bin', chunks: refsOf(more), size: 2000, idempotencyKey: 'q' };
      await refused('quota', () => t.commit(small, body), 507, 'quota_exceeded');
    });
  });

  describe('downloads', () => {
    it("answers another workspace's file, an unknown file or version with not_found", async () => {
      for (const path of [
        `/v1/files/${otherFile.fileId}/download_request`,
        `/v1/files/${otherFile.fileId}/content`,
        `/v1/files/${otherFile.fileId}/content?versionId=${otherFile.versionId}`,
        `/v1/files/${existing.fileId}/content?versionId=${otherFile.versionId}`,
        '/v1/files/nope/download_request',
        `/v1/files/${docs}/content`,
        '/v1/files/%20bad%20id/content',
      ]) {
        const answer = await t.call('GET', path, me);
        expect(answer.status, path).toBe(404);
        expect(answer.body.error?.code, path).toBe('not_found');
      }
    });

    it("does not serve a chunk through a URL re-signed for another workspace's name", async () => {
      const mine = (await t.call('GET', `/v1/files/${existing.fileId}/download_request`, me)).body.chunks as Array<{ url: string }>;
      const u = new URL(mine[0]?.url as string);
      u.searchParams.set('w', other.workspaceId);
      expect((await t.getBytes(u.toString())).status).toBe(403);
      expect((await t.getBytes(mine[0]?.url as string)).status).toBe(200);
    });
  });
});
