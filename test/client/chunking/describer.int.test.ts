import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadDescriber } from '../../../src/client/chunking/describer.js';
import type { FileChunk } from '../../../src/client/chunking/hashChunks.js';
import { describeLocalFile } from '../../../src/client/local/describe.js';
import { seededBytes } from './seededBytes.js';

const MiB = 1024 * 1024;

describe('the describer thread', () => {
  let dir: string;
  let original: Uint8Array;
  let previous: readonly FileChunk[];
  const file = (name: string) => path.join(dir, name);
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-describer-'));
    original = seededBytes(12 * MiB, 21);
    fs.writeFileSync(file('data.bin'), original);
    previous = (await describeLocalFile(file('data.bin'), original.length)).chunks;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('describes an edited file as this thread does, and hands over the chunks the previous version lacked, with their bytes', async () => {
    const edited = Buffer.concat([Buffer.from([0x2a]), original]);
    fs.writeFileSync(file('edited.bin'), edited);
    const describer = threadDescriber();
    try {
      const handed: { chunk: FileChunk; sha: string }[] = [];
      const described = await describer.describe(file('edited.bin'), edited.length, previous, (chunk, bytes) =>
        handed.push({ chunk, sha: crypto.createHash('sha256').update(bytes).digest('hex') }),
      );
      expect(described).toEqual(await describeLocalFile(file('edited.bin'), edited.length, previous));
      const old = new Set(previous.map((c) => c.hash));
      const fresh = described.chunks.filter((c) => !old.has(c.hash));
      expect(fresh.length).toBeGreaterThan(0);
      expect(handed.map((h) => h.chunk)).toEqual(fresh);
      // The bytes handed over are the chunk's own.
      for (const h of handed) expect(h.sha).toBe(h.chunk.hash);
    } finally {
      await describer.close();
    }
  });

  it('refuses a file that is gone, and goes on describing the next', async () => {
    const describer = threadDescriber();
    try {
      await expect(describer.describe(file('gone.bin'), 8 * MiB, previous)).rejects.toThrow(/ENOENT/);
      expect((await describer.describe(file('data.bin'), original.length, previous)).chunks).toEqual(previous);
    } finally {
      await describer.close();
    }
  });

  it('answers several describes asked at once, each its own', async () => {
    const other = seededBytes(6 * MiB, 22);
    fs.writeFileSync(file('other.bin'), other);
    const describer = threadDescriber();
    try {
      const [one, two] = await Promise.all([describer.describe(file('data.bin'), original.length, previous), describer.describe(file('other.bin'), other.length, previous)]);
      expect(one.chunks).toEqual(previous);
      expect(two).toEqual(await describeLocalFile(file('other.bin'), other.length, previous));
    } finally {
      await describer.close();
    }
  });

  it('runs in a thread of its own, started by warm (or the first describe) and ended by close', async () => {
    const threads = () => fs.readdirSync('/proc/self/task').length;
    const before = threads();
    const describer = threadDescriber();
    describer.warm();
    const started = threads();
    expect(started).toBeGreaterThan(before);
    await describer.describe(file('data.bin'), original.length, previous);
    await describer.close();
    for (let i = 0; i < 50 && threads() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(threads()).toBe(before);
  });

  it('once closed, describes in the calling thread, with the same answer', async () => {
    const describer = threadDescriber();
    describer.warm();
    await describer.close();
    expect((await describer.describe(file('data.bin'), original.length, previous)).chunks).toEqual(previous);
  });
});
