import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeFile } from '../src/client/chunking/hashChunks.js';
import { startServerProcess } from './serverProcess.js';
import { benchDatabase, fmt, machine } from './support.js';

const MiB = 1024 * 1024;

/** A file of pseudo-random bytes (incompressible, no repeated chunks). */
const makeFile = async (file: string, bytes: number): Promise<void> => {
  const fd = await fs.promises.open(file, 'w');
  const block = Buffer.alloc(64 * MiB);
  for (let written = 0; written < bytes; written += block.length) {
    crypto.randomFillSync(block);
    await fd.write(block, 0, Math.min(block.length, bytes - written));
  }
  await fd.close();
};

const post = async (url: string, body: unknown, token?: string): Promise<Record<string, unknown>> => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

/** Runs `work` over items with at most `limit` in flight. */
const parallel = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
};

/** A new file through the whole API: chunk and hash, upload_request, PUT the missing chunks, commit. */
export const benchIngest = async (): Promise<void> => {
  const size = Number(process.env.BENCH_INGEST_MIB ?? 1024) * MiB;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-ingest-'));
  const file = path.join(dir, 'big.bin');
  await makeFile(file, size);
  const db = await benchDatabase();
  const strata = await startServerProcess({ env: { DATABASE_URL: db.url, STRATA_RATE_LIMITS: 'device=1000000,workspace=1000000,address=1000000', STRATA_QUOTA_BYTES: String(16 * 1024 ** 3) } });
  const baseline = await startServerProcess({ env: {}, script: 'bench/diskBaseline.ts' });
  try {
    const email = `ingest-${Date.now()}@example.com`;
    await post(`${strata.url}/v1/auth/signup`, { email, password: 'ingest benchmark' });
    const login = await post(`${strata.url}/v1/auth/login`, { email, password: 'ingest benchmark', deviceName: 'bench' });
    const token = login.accessToken as string;
    const workspaceId = login.workspaceId as string;
    const rootId = ((await (await fetch(`${strata.url}/v1/workspaces/${workspaceId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { rootId: string }).rootId;

    const t0 = performance.now();
    const described = await describeFile(file);
    const tDescribed = performance.now();
    const chunks = described.chunks.map((c) => ({ hash: c.hash, size: c.size }));
    const up = await post(`${strata.url}/v1/files/upload_request`, { workspaceId, parentId: rootId, fileName: 'big.bin', fileSize: size, chunks }, token);
    const urls = up.uploadUrls as Record<string, string>;
    const missing = new Set(up.missing as string[]);
    const handle = await fs.promises.open(file, 'r');
    await parallel(described.chunks.filter((c) => missing.has(c.hash)), 8, async (c) => {
      const bytes = Buffer.alloc(c.size);
      await handle.read(bytes, 0, c.size, c.offset);
      const res = await fetch(urls[c.hash] as string, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
      if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${res.status} ${await res.text()}`);
    });
    await handle.close();
    await post(`${strata.url}/v1/files/commit`, { workspaceId, parentId: rootId, name: 'big.bin', chunks, size, idempotencyKey: crypto.randomUUID() }, token);
    const strataSeconds = (performance.now() - t0) / 1000;

    const b0 = performance.now();
    const res = await fetch(`${baseline.url}/upload`, { method: 'POST', body: fs.createReadStream(file) as unknown as ReadableStream, duplex: 'half' } as RequestInit);
    if (res.status !== 201) throw new Error(`baseline POST ${res.status}`);
    const baselineSeconds = (performance.now() - b0) / 1000;

    const mb = size / 1e6;
    console.log(`\ningest: a new ${size / MiB} MiB file, filesystem blob store, ${described.chunks.length} chunks; ${machine()}, ${new Date().toISOString()}`);
    console.log('| path | seconds | MB/s | ratio to baseline |');
    console.log('|---|---|---|---|');
    console.log(`| bare node:http POST to disk + fsync (baseline) | ${fmt(baselineSeconds, 2)} | ${fmt(mb / baselineSeconds, 0)} | 1.00 |`);
    console.log(`| strata: chunk+hash, upload_request, PUT ×8, commit | ${fmt(strataSeconds, 2)} | ${fmt(mb / strataSeconds, 0)} | ${fmt(baselineSeconds / strataSeconds, 2)} |`);
    console.log(`|   of which chunking and hashing on the client | ${fmt((tDescribed - t0) / 1000, 2)} | ${fmt(mb / ((tDescribed - t0) / 1000), 0)} | |`);
  } finally {
    await strata.stop();
    await baseline.stop();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
};
