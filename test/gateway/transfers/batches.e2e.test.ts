import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_RECORDS_TYPE, decodeRecords, encodeRecords } from '../../../src/protocol/chunkRecords.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { randomBytes, refsOf, sha256, startTransfersGateway, type Account, type Chunk, type TransfersGateway } from './harness.js';

const chunk = (bytes: Buffer): Chunk => ({ hash: sha256(bytes), size: bytes.length, bytes });
const body = (chunks: readonly Chunk[]): Buffer => Buffer.concat(encodeRecords(chunks.map((c) => ({ hash: c.hash, bytes: c.bytes }))));

describe('many small files at once (docs/api-extensions.md)', () => {
  let db: TestDatabase;
  let t: TransfersGateway;
  let me: Account;
  let other: Account;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTransfersGateway(db);
    me = await t.newAccount();
    other = await t.newAccount();
  });
  afterAll(async () => {
    await t.gw.close();
    await db.drop();
  });

  const send = (a: Account, bytes: Uint8Array, workspaceId = a.workspaceId, type = CHUNK_RECORDS_TYPE) => t.sendRecords(a, bytes, workspaceId, type);
  const missing = (a: Account, hashes: string[]) => t.call('POST', `/v1/workspaces/${a.workspaceId}/chunks/missing`, a, { hashes });
  const commitBatch = (a: Account, commits: unknown[]) => t.commitBatch(a, commits);
  const fetchRecords = async (a: Account, hashes: string[], workspaceId = a.workspaceId) => {
    const res = await fetch(`${t.gw.url}/v1/workspaces/${workspaceId}/chunks/fetch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hashes }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, type: res.headers.get('content-type'), bytes };
  };

  describe('chunks in one body', () => {
    const chunks = Array.from({ length: 40 }, (_, i) => chunk(randomBytes(1 + i * 397)));

    it('are all reported missing, then sent in one request, hashed, and held by the workspace', async () => {
      expect((await missing(me, chunks.map((c) => c.hash))).body).toEqual({ missing: chunks.map((c) => c.hash) });
      const sent = await send(me, body(chunks));
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({ chunks: chunks.map((c) => ({ hash: c.hash, size: c.size, created: true })) });
      expect((await missing(me, chunks.map((c) => c.hash))).body).toEqual({ missing: [] });
      // Held per workspace: the other account still lacks them (no cross-account oracle).
      expect((await missing(other, [chunks[0]?.hash as string])).body).toEqual({ missing: [chunks[0]?.hash] });
    });

    it('may be sent again: the same answer with created false, nothing new kept', async () => {
      const before = await t.snapshot();
      const again = await send(me, body(chunks.slice(0, 3)));
      expect(again.body).toEqual({ chunks: chunks.slice(0, 3).map((c) => ({ hash: c.hash, size: c.size, created: false })) });
      const after = await t.snapshot();
      expect(after.chunkFiles).toBe(before.chunkFiles);
      expect(after.events).toBe(before.events);
    });

    it('are refused whole when one record lies about its hash: hash_mismatch names it, nothing is kept', async () => {
      const honest = chunk(randomBytes(1000));
      const liar = { ...chunk(randomBytes(1000)), hash: sha256('something else') };
      const before = await t.snapshot();
      const refused = await send(me, body([honest, liar]));
      expect(refused.status).toBe(422);
      expect(refused.body.error).toMatchObject({ code: 'hash_mismatch', details: { index: 1, expected: liar.hash, actual: sha256(liar.bytes) } });
      expect(await t.snapshot()).toEqual(before);
      expect((await missing(me, [honest.hash])).body).toEqual({ missing: [honest.hash] });
    });

    it('are refused when the body is not whole records, or not records at all', async () => {
      const before = await t.snapshot();
      const whole = body([chunk(randomBytes(500))]);
      const cut = await send(me, whole.subarray(0, whole.length - 1));
      expect([cut.status, cut.body.error?.code, cut.body.error?.details.reason]).toEqual([400, 'invalid_request', 'truncated']);
      const header = Buffer.alloc(36);
      const empty = await send(me, header);
      expect([empty.status, empty.body.error?.details.reason]).toEqual([400, 'empty_chunk']);
      const huge = Buffer.alloc(36);
      huge.writeUInt32BE(17 * 1024 * 1024, 32);
      expect((await send(me, huge)).status).toBe(413);
      expect((await send(me, Buffer.from('{"not":"records"}'), me.workspaceId, 'application/json')).status).toBe(400);
      expect(await t.snapshot()).toEqual(before);
    });

    it("are not sent to or asked of another workspace's id: not_found", async () => {
      expect((await send(me, body([chunk(randomBytes(10))]), other.workspaceId)).status).toBe(404);
      expect((await t.call('POST', `/v1/workspaces/${other.workspaceId}/chunks/missing`, me, { hashes: [sha256('x')] })).status).toBe(404);
    });

    it('are refused without a bearer token', async () => {
      const res = await fetch(`${t.gw.url}/v1/workspaces/${me.workspaceId}/chunks`, { method: 'POST', headers: { 'content-type': CHUNK_RECORDS_TYPE }, body: body([chunk(randomBytes(10))]) });
      expect(res.status).toBe(401);
    });
  });

  describe('commits in one request', () => {
    it('commit every good one in one durable write and answer each as commit would', async () => {
      const folder = await t.newFolder(me, 'batch');
      const files = Array.from({ length: 5 }, (_, i) => chunk(randomBytes(100 + i)));
      expect((await send(me, body(files))).status).toBe(200);
      const notSent = chunk(randomBytes(64));
      const cursor = await t.cursorOf(me);
      const answer = await commitBatch(me, [
        { parentId: folder, name: 'a.txt', chunks: refsOf([files[0] as Chunk]), size: files[0]?.size, idempotencyKey: 'b-a' },
        { parentId: folder, name: 'b.txt', chunks: refsOf([notSent]), size: notSent.size, idempotencyKey: 'b-b' },
        { parentId: folder, name: 'A.TXT', chunks: refsOf([files[1] as Chunk]), size: files[1]?.size, idempotencyKey: 'b-c' },
        { parentId: folder, name: 'c.txt', chunks: refsOf([files[2] as Chunk]), size: 1, idempotencyKey: 'b-d' },
        { parentId: 'no-such-folder', name: 'd.txt', chunks: refsOf([files[3] as Chunk]), size: files[3]?.size, idempotencyKey: 'b-e' },
        { parentId: folder, name: 'e.txt', chunks: refsOf([files[4] as Chunk]), size: files[4]?.size, idempotencyKey: 'b-f', baseVersionId: 'v1' },
        { parentId: folder, name: 'f.txt', chunks: refsOf([files[4] as Chunk]), size: files[4]?.size, idempotencyKey: 'b-g' },
      ]);
      expect(answer.status).toBe(200);
      const results = answer.body.results as { status: number; cursor?: number; fileId?: string; error?: { code: string; details: Record<string, unknown> } }[];
      expect(results.map((r) => [r.status, r.error?.code ?? 'ok'])).toEqual([
        [201, 'ok'],
        [422, 'missing_chunks'],
        [409, 'name_conflict'],
        [400, 'invalid_request'],
        [404, 'not_found'],
        [400, 'invalid_request'],
        [201, 'ok'],
      ]);
      expect(results[1]?.error?.details.missing).toEqual([notSent.hash]);
      expect([results[0]?.cursor, results[6]?.cursor]).toEqual([cursor + 1, cursor + 2]);
      expect(answer.body.cursor).toBe(cursor + 2);
      expect(await t.cursorOf(me)).toBe(cursor + 2);
      const { rows } = await db.pool.query<{ txs: string }>('SELECT count(DISTINCT tx_id)::text AS txs FROM es_events WHERE stream_id = $1 AND stream_version > $2', [
        `workspace-${me.workspaceId}`,
        cursor,
      ]);
      expect(rows[0]?.txs).toBe('1');

      // The same keys again (a retry after a lost answer): the first answers, nothing appended.
      const again = await commitBatch(me, [
        { parentId: folder, name: 'a.txt', chunks: refsOf([files[0] as Chunk]), size: files[0]?.size, idempotencyKey: 'b-a' },
        { parentId: folder, name: 'f.txt', chunks: refsOf([files[4] as Chunk]), size: files[4]?.size, idempotencyKey: 'b-g' },
      ]);
      expect((again.body.results as unknown[]).map((r) => r)).toEqual([results[0], results[6]]);
      expect(again.body.cursor).toBe(cursor + 2);
      // commit shares the key space.
      const single = await t.commit(me, { parentId: folder, name: 'a.txt', chunks: refsOf([files[0] as Chunk]), size: files[0]?.size, idempotencyKey: 'b-a' });
      expect(single.status).toBe(201);
      expect(single.body).toEqual({ fileId: results[0]?.fileId, versionId: (results[0] as { versionId?: string }).versionId, cursor: cursor + 1 });
      expect(await t.cursorOf(me)).toBe(cursor + 2);
    });

    it('take new versions with their base, and answer version_conflict with the latest for a stale one', async () => {
      const v1 = chunk(randomBytes(50));
      const v2 = chunk(randomBytes(51));
      expect((await send(me, body([v1, v2]))).status).toBe(200);
      const first = await commitBatch(me, [{ parentId: me.rootId, name: 'doc.txt', chunks: refsOf([v1]), size: v1.size, idempotencyKey: 'doc-1' }]);
      const created = (first.body.results as { fileId: string; versionId: string }[])[0] as { fileId: string; versionId: string };
      const next = await commitBatch(me, [
        { parentId: me.rootId, name: 'doc.txt', fileId: created.fileId, baseVersionId: created.versionId, chunks: refsOf([v2]), size: v2.size, idempotencyKey: 'doc-2' },
        { parentId: me.rootId, name: 'doc.txt', fileId: created.fileId, baseVersionId: created.versionId, chunks: refsOf([v1]), size: v1.size, idempotencyKey: 'doc-3' },
      ]);
      const [ok, stale] = next.body.results as { status: number; versionId?: string; error?: { code: string; details: Record<string, unknown> } }[];
      expect(ok?.status).toBe(201);
      expect(stale?.status).toBe(409);
      expect(stale?.error).toMatchObject({ code: 'version_conflict', details: { latestVersionId: ok?.versionId } });
    });

    it('refuse the whole request only for what concerns all of it', async () => {
      const before = await t.snapshot();
      const item = { parentId: me.rootId, name: 'x', chunks: [], size: 0, idempotencyKey: 'x' };
      expect((await commitBatch(me, [])).status).toBe(400);
      expect((await commitBatch(me, Array.from({ length: 1001 }, (_, i) => ({ ...item, idempotencyKey: `x${i}` })))).status).toBe(400);
      expect((await t.call('POST', '/v1/files/commit_batch', me, { workspaceId: other.workspaceId, commits: [item] })).status).toBe(404);
      expect((await t.call('POST', '/v1/files/commit_batch', me, { workspaceId: me.workspaceId, commits: [{ ...item, size: -1 }] })).status).toBe(400);
      expect(await t.snapshot()).toEqual(before);
    });
  });

  describe('chunks fetched in one answer', () => {
    it("give back the workspace's referenced chunks as records, each once, in the order asked", async () => {
      const files = Array.from({ length: 6 }, (_, i) => chunk(randomBytes(300 + i)));
      expect((await send(me, body(files))).status).toBe(200);
      const answer = await commitBatch(
        me,
        files.map((c, i) => ({ parentId: me.rootId, name: `fetch-${i}`, chunks: refsOf([c]), size: c.size, idempotencyKey: `fetch-${i}` })),
      );
      expect((answer.body.results as { status: number }[]).every((r) => r.status === 201)).toBe(true);
      const asked = [files[3], files[0], files[3], files[5]].map((c) => (c as Chunk).hash);
      const fetched = await fetchRecords(me, asked);
      expect(fetched.status).toBe(200);
      expect(fetched.type).toBe(CHUNK_RECORDS_TYPE);
      const decoded = decodeRecords(fetched.bytes, 16 * 1024 * 1024);
      if (!('records' in decoded)) throw new Error(JSON.stringify(decoded.problem));
      expect(decoded.records.map((r) => r.hash)).toEqual([files[3], files[0], files[5]].map((c) => (c as Chunk).hash));
      for (const r of decoded.records) expect(sha256(Buffer.from(r.bytes))).toBe(r.hash);
    });

    it('refuse a chunk the workspace only sent (not yet in a file) or never had: not_found, no bytes', async () => {
      const sentOnly = chunk(randomBytes(70));
      expect((await send(me, body([sentOnly]))).status).toBe(200);
      const refused = await fetchRecords(me, [sentOnly.hash]);
      expect(refused.status).toBe(404);
      expect(JSON.parse(refused.bytes.toString()).error.details.missing).toEqual([sentOnly.hash]);
      expect((await fetchRecords(me, [sentOnly.hash], other.workspaceId)).status).toBe(404);
    });
  });
});
