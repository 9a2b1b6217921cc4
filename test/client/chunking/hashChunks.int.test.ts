import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutPoints, type ChunkingParams } from '../../../src/client/chunking/fastcdc.js';
import { contentHash, describeFile } from '../../../src/client/chunking/hashChunks.js';
import { contentHashOf } from '../../support/workspaceCommands.js';
import { seededBytes } from './seededBytes.js';

const MiB = 1024 * 1024;

/** What describeFile must find: the whole buffer cut in memory, each slice hashed on its own. */
const expectedChunks = (bytes: Uint8Array, params?: ChunkingParams) =>
  cutPoints(bytes, params).map((end, k, cuts) => {
    const offset = k === 0 ? 0 : (cuts[k - 1] as number);
    return { hash: crypto.createHash('sha256').update(bytes.subarray(offset, end)).digest('hex'), size: end - offset, offset };
  });

describe('a file on disk', () => {
  let dir: string;
  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-chunking-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is described chunk by chunk as the in-memory chunker cuts it', async () => {
    const bytes = seededBytes(10 * MiB + 12345, 11);
    const described = await describeFile(write('ten.bin', bytes));
    expect(described.size).toBe(bytes.length);
    expect(described.chunks).toEqual(expectedChunks(bytes));
    expect(contentHash(described.chunks)).toBe(contentHashOf(described.chunks));
  });

  it('is described with the chunk sizes it is given', async () => {
    const params = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
    const bytes = seededBytes(3 * MiB, 12);
    expect((await describeFile(write('small-chunks.bin', bytes), params)).chunks).toEqual(expectedChunks(bytes, params));
  });

  it('has no chunk when empty, and the content hash of nothing', async () => {
    const described = await describeFile(write('empty.bin', new Uint8Array(0)));
    expect(described).toEqual({ size: 0, chunks: [] });
    expect(contentHash(described.chunks)).toBe(crypto.createHash('sha256').digest('hex'));
  });

  it('is one chunk when smaller than the minimum chunk', async () => {
    const bytes = seededBytes(1000, 13);
    expect((await describeFile(write('tiny.bin', bytes))).chunks).toEqual(expectedChunks(bytes));
  });

  it('fails when it does not exist', async () => {
    await expect(describeFile(path.join(dir, 'missing.bin'))).rejects.toThrow(/ENOENT/);
  });
});
