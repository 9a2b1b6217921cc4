import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../../src/client/chunking/hashChunks.js';
import { ChunkHash, type NonNegativeInt } from '../../../src/domain/ids.js';
import { contentHashOf } from '../../support/workspaceCommands.js';

const hashOf = (text: string): ChunkHash => {
  const hex = crypto.createHash('sha256').update(text).digest('hex');
  if (!ChunkHash.is(hex)) throw new Error('not a hash');
  return hex;
};

describe('a file content hash', () => {
  it('is the server content hash of the same chunk list', () => {
    const chunks = ['a', 'b', 'a', 'c'].map((seed, k) => ({ hash: hashOf(seed), size: (k + 1) as NonNegativeInt }));
    expect(contentHash(chunks)).toBe(contentHashOf(chunks));
  });

  it('depends on the order of the chunks', () => {
    const [a, b] = [hashOf('a'), hashOf('b')];
    expect(contentHash([{ hash: a }, { hash: b }])).not.toBe(contentHash([{ hash: b }, { hash: a }]));
  });

  it('is the SHA-256 of nothing for an empty file', () => {
    expect(contentHash([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
