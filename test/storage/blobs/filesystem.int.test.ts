import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFilesystemBlobStore } from '../../../src/storage/blobs/filesystem.js';
import { randomChunk, streamOf } from './chunks.js';
import { blobStoreContract } from './contract.js';

const roots: string[] = [];
const freshRoot = (): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-blobs-'));
  roots.push(root);
  return root;
};
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

describe('the filesystem blob store', () => {
  blobStoreContract(() => createFilesystemBlobStore({ root: freshRoot() }), { presign: false });
});

describe('a filesystem blob store', () => {
  it('keeps a chunk at chunks/ab/cd/<hash>', async () => {
    const root = freshRoot();
    const store = await createFilesystemBlobStore({ root });
    const chunk = randomChunk(100);
    await store.put(chunk.hash, chunk.bytes);
    const file = path.join(root, 'chunks', chunk.hash.slice(0, 2), chunk.hash.slice(2, 4), chunk.hash);
    expect(fs.readFileSync(file).equals(chunk.bytes)).toBe(true);
  });

  it('tells exactly one of several racing puts that it created the chunk', async () => {
    const store = await createFilesystemBlobStore({ root: freshRoot() });
    const chunk = randomChunk(200_000);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(chunk.hash, streamOf(chunk.bytes))));
    expect(results.filter((r) => r.ok && r.created)).toHaveLength(1);
  });

  it('leaves no temp file behind, whatever the outcome of a put', async () => {
    const root = freshRoot();
    const store = await createFilesystemBlobStore({ root });
    const chunk = randomChunk(5000);
    await store.put(chunk.hash, randomChunk(5000).bytes);
    await store.put(chunk.hash, chunk.bytes, { maxBytes: 100 });
    await store.put(chunk.hash, chunk.bytes);
    await store.put(chunk.hash, chunk.bytes);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('fails ping once its root is gone', async () => {
    const root = freshRoot();
    const store = await createFilesystemBlobStore({ root });
    await store.ping();
    fs.rmSync(root, { recursive: true, force: true });
    await expect(store.ping()).rejects.toThrow(/ENOENT/);
  });
});

describe('a root holding temp files from a crash', () => {
  const chunk = randomChunk(4096);
  const leaveTemp = (root: string, name: string, ageMs: number): string => {
    fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
    const file = path.join(root, 'tmp', name);
    fs.writeFileSync(file, chunk.bytes);
    const when = new Date(Date.now() - ageMs);
    fs.utimesSync(file, when, when);
    return file;
  };

  it('loses them when the store starts', async () => {
    const root = freshRoot();
    const stale = leaveTemp(root, `${chunk.hash}.deadbeef`, 60 * 60_000);
    await createFilesystemBlobStore({ root });
    expect(fs.existsSync(stale)).toBe(false);
  });

  it('keeps one written moments ago, which another process may still be writing', async () => {
    const root = freshRoot();
    const live = leaveTemp(root, `${chunk.hash}.cafe`, 0);
    await createFilesystemBlobStore({ root });
    expect(fs.existsSync(live)).toBe(true);
  });

  it('never shows one as a chunk, even holding the right bytes', async () => {
    const root = freshRoot();
    leaveTemp(root, `${chunk.hash}.cafe`, 0);
    const store = await createFilesystemBlobStore({ root });
    expect(await store.stat(chunk.hash)).toBeNull();
    expect(await store.get(chunk.hash)).toBeNull();
    for await (const stored of store.list()) expect.unreachable(`listed ${stored.hash}`);
    expect(await store.put(chunk.hash, chunk.bytes)).toEqual({ ok: true, created: true, size: 4096 });
  });
});
