import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Authenticator, AuthContext } from '../../../src/gateway/http/auth.js';
import type { DeviceId, IsoTimestamp, NodeId, NonNegativeInt, UserId, WorkspaceId } from '../../../src/domain/ids.js';
import type { WorkspaceCommand } from '../../../src/domain/workspace/commands.js';
import type { BlobStore } from '../../../src/storage/blobs/port.js';
import type { GatewaySettings } from '../../../src/gateway/deps.js';
import { CHUNK_RECORDS_TYPE, encodeRecords } from '../../../src/protocol/chunkRecords.js';
import type { TestDatabase } from '../../support/db.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { createDatabaseCounter } from '../../support/pgCounters.js';
import { sha256 } from '../../support/workspaceCommands.js';

export { sha256 };

export interface Account {
  readonly workspaceId: string;
  readonly rootId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly token: string;
}

export interface Chunk {
  readonly hash: string;
  readonly size: number;
  readonly bytes: Buffer;
}

const rid = (prefix: string): string => `${prefix}${crypto.randomBytes(6).toString('hex')}`;

/** Fixed-size pieces, enough for tests (devices cut content-defined chunks; the server does not care). */
export const chunksOf = (bytes: Buffer, chunkSize: number): Chunk[] => {
  const out: Chunk[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + chunkSize));
    out.push({ hash: sha256(piece), size: piece.length, bytes: Buffer.from(piece) });
  }
  return out;
};

export const refsOf = (chunks: readonly Chunk[]) => chunks.map(({ hash, size }) => ({ hash, size }));

/** Bytes that no other test will produce by chance. */
export const randomBytes = (n: number): Buffer => crypto.randomBytes(n);

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string; details: Record<string, unknown> } };
}

const answerOf = async (res: Response): Promise<Answer> => {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body: body as Answer['body'] };
};

/**
 * A gateway whose bearer tokens are fixed strings mapped to workspaces created through the command
 * handler: these tests exercise transfers, the token check itself is tested by the accounts tests.
 */
export const startTransfersGateway = async (
  db: TestDatabase,
  options: { blobs?: BlobStore; now?: () => Date; settings?: Partial<GatewaySettings> } = {},
) => {
  const tokens = new Map<string, AuthContext>();
  const authenticator: Authenticator = { authenticate: async (token) => tokens.get(token) ?? null };
  const gw: TestGateway = await startTestGateway(db, { ...options, authenticator });
  const counter = createDatabaseCounter(db.pool);

  const run = async (command: WorkspaceCommand) => {
    const result = await gw.deps.handle(command);
    if (E.isLeft(result)) throw new Error(`${command.type} failed: ${JSON.stringify(result.left)}`);
    return result.right;
  };

  const meta = (a: Pick<Account, 'userId' | 'deviceId'>) => ({
    now: new Date().toISOString() as IsoTimestamp,
    userId: a.userId as UserId,
    deviceId: a.deviceId as DeviceId,
  });

  const newAccount = async (quotaBytes = 10 * 1024 ** 3): Promise<Account> => {
    const account: Account = { workspaceId: rid('w'), rootId: rid('root'), userId: rid('u'), deviceId: rid('d'), token: rid('t') };
    await run({
      type: 'CreateWorkspace',
      workspaceId: account.workspaceId as WorkspaceId,
      data: { rootId: account.rootId as NodeId, ownerId: account.userId as UserId, quotaBytes: quotaBytes as NonNegativeInt },
      metadata: meta(account),
    });
    tokens.set(account.token, { workspaceId: account.workspaceId as WorkspaceId, userId: account.userId as UserId, deviceId: account.deviceId as DeviceId });
    return account;
  };

  const newFolder = async (a: Account, name: string, parentId = a.rootId): Promise<string> => {
    const nodeId = rid('n');
    await run({ type: 'CreateFolder', workspaceId: a.workspaceId as WorkspaceId, data: { nodeId: nodeId as NodeId, parentId: parentId as NodeId, name }, metadata: meta(a) });
    return nodeId;
  };

  const call = async (method: string, url: string, a: Account | null, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    answerOf(
      await fetch(url.startsWith('http') ? url : `${gw.url}${url}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(a === null ? {} : { authorization: `Bearer ${a.token}` }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
    );

  /** PUTs raw bytes to a (signed) URL, as a device would: no bearer token. */
  const putBytes = async (url: string, bytes: Uint8Array, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }): Promise<Answer> =>
    answerOf(await fetch(url, { method: 'PUT', headers, body: bytes }));

  const getBytes = async (url: string, a: Account | null = null, headers: Record<string, string> = {}) => {
    const res = await fetch(url.startsWith('http') ? url : `${gw.url}${url}`, {
      headers: { ...(a === null ? {} : { authorization: `Bearer ${a.token}` }), ...headers },
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  };

  const uploadRequest = (a: Account, parentId: string, fileName: string, chunks: readonly Chunk[]) =>
    call('POST', '/v1/files/upload_request', a, {
      workspaceId: a.workspaceId,
      parentId,
      fileName,
      fileSize: chunks.reduce((s, c) => s + c.size, 0),
      chunks: refsOf(chunks),
    });

  const commit = (a: Account, body: Record<string, unknown>) => call('POST', '/v1/files/commit', a, { workspaceId: a.workspaceId, ...body });

  /** The whole upload of api-v1.md: upload_request, PUT what is missing, commit. */
  const upload = async (
    a: Account,
    parentId: string,
    name: string,
    chunks: readonly Chunk[],
    edit: { fileId: string; baseVersionId: string } | null = null,
  ): Promise<{ fileId: string; versionId: string; cursor: number; missing: string[]; puts: number[] }> => {
    const request = await uploadRequest(a, parentId, name, chunks);
    if (request.status !== 200) throw new Error(`upload_request: ${request.status} ${JSON.stringify(request.body)}`);
    const missing = request.body.missing as string[];
    const urls = request.body.uploadUrls as Record<string, string>;
    const puts: number[] = [];
    for (const hash of missing) {
      const chunk = chunks.find((c) => c.hash === hash);
      if (chunk === undefined || urls[hash] === undefined) throw new Error(`no chunk or URL for ${hash}`);
      const put = await putBytes(urls[hash], chunk.bytes);
      if (put.status >= 300) throw new Error(`PUT ${hash}: ${put.status} ${JSON.stringify(put.body)}`);
      puts.push(put.status);
    }
    const committed = await commit(a, {
      parentId,
      name,
      chunks: refsOf(chunks),
      size: chunks.reduce((s, c) => s + c.size, 0),
      idempotencyKey: rid('k'),
      ...(edit ?? {}),
    });
    if (committed.status !== 201) throw new Error(`commit: ${committed.status} ${JSON.stringify(committed.body)}`);
    return { ...(committed.body as { fileId: string; versionId: string; cursor: number }), missing, puts };
  };

  /** POST /v1/workspaces/{id}/chunks (docs/api-extensions.md): the chunks as one records body. */
  const sendRecords = async (a: Account, body: Uint8Array | readonly Chunk[], workspaceId = a.workspaceId, type = CHUNK_RECORDS_TYPE): Promise<Answer> =>
    answerOf(
      await fetch(`${gw.url}/v1/workspaces/${workspaceId}/chunks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': type },
        body: body instanceof Uint8Array ? body : Buffer.concat(encodeRecords(body.map((c) => ({ hash: c.hash, bytes: c.bytes })))),
      }),
    );

  const commitBatch = (a: Account, commits: readonly unknown[]) => call('POST', '/v1/files/commit_batch', a, { workspaceId: a.workspaceId, commits });

  /** Every chunk file in the blob store's directory (a chunk of its own; small chunks sent many at once are packed instead). */
  const storedChunkFiles = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else out.push(entry.name);
      }
    };
    walk(path.join(gw.blobDir, 'chunks'));
    return out.sort();
  };

  /** Rows of the log, the projection, the transfer tables and chunk files: a refused request changes none. */
  const snapshot = async (): Promise<Record<string, number> & { events: number }> => {
    const { rows } = await db.pool.query<{ workspace_chunks: string; uploads: string }>(
      'SELECT (SELECT count(*) FROM workspace_chunks) AS workspace_chunks, (SELECT count(*) FROM uploads) AS uploads',
    );
    const log = await counter.snapshot();
    return {
      ...log,
      events: log.events ?? Number.NaN,
      workspaceChunks: Number(rows[0]?.workspace_chunks),
      uploads: Number(rows[0]?.uploads),
      chunkFiles: storedChunkFiles().length,
      packFiles: fs.existsSync(path.join(gw.blobDir, 'packs')) ? fs.readdirSync(path.join(gw.blobDir, 'packs')).length : 0,
      packedChunks: Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM blob_packed')).rows[0]?.n),
      tempFiles: fs.existsSync(path.join(gw.blobDir, 'tmp')) ? fs.readdirSync(path.join(gw.blobDir, 'tmp')).length : 0,
    };
  };

  /** The workspace's cursor, as the projection has it. */
  const cursorOf = async (a: Account): Promise<number> =>
    Number((await db.pool.query<{ cursor: string }>('SELECT cursor FROM rm.workspaces WHERE workspace_id = $1', [a.workspaceId])).rows[0]?.cursor);

  return { gw, run, meta, cursorOf, newAccount, newFolder, call, putBytes, getBytes, uploadRequest, commit, upload, sendRecords, commitBatch, storedChunkFiles, snapshot };
};

export type TransfersGateway = Awaited<ReturnType<typeof startTransfersGateway>>;

/** A clock that runs with the real one, but can be moved ahead (expiry tests). */
export const movableClock = () => {
  let offsetMs = 0;
  return {
    now: (): Date => new Date(Date.now() + offsetMs),
    advance: (ms: number): void => {
      offsetMs += ms;
    },
  };
};
