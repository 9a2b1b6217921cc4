import { describe, expect, it } from 'vitest';
import { BlockPool } from '../../src/fs/blockPool.js';

describe('a pool of read blocks', () => {
  it('lends blocks of its size', () => {
    expect(new BlockPool(4096).take().length).toBe(4096);
  });

  it('lends a block given back again, rather than a new one', () => {
    const pool = new BlockPool(4096);
    const block = pool.take();
    pool.give(block);
    expect(pool.take()).toBe(block);
    expect(pool.take()).not.toBe(block);
  });

  it('keeps at most as many given-back blocks as it is told', () => {
    const pool = new BlockPool(16, 2);
    const lent = [pool.take(), pool.take(), pool.take()];
    for (const block of lent) pool.give(block);
    const again = [pool.take(), pool.take(), pool.take()];
    expect(again.filter((b) => lent.includes(b))).toHaveLength(2);
  });

  it('does not keep a buffer of another size', () => {
    const pool = new BlockPool(16);
    const other = Buffer.alloc(8);
    pool.give(other);
    expect(pool.take()).not.toBe(other);
  });
});
