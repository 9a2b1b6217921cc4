import { describe, expect, it } from 'vitest';
import { ByteLru } from '../../../../src/gateway/sync/cache/lru.js';

const item = (name: string, log: string[]) => ({ name, dropped: () => void log.push(name) });

describe('a byte-bounded LRU', () => {
  it('evicts the least recently used entries once over budget, and counts them', () => {
    const dropped: string[] = [];
    const sizes: number[] = [];
    const lru = new ByteLru(100, (bytes) => sizes.push(bytes));
    lru.set('a', item('a', dropped), 40);
    lru.set('b', item('b', dropped), 40);
    lru.get('a');
    lru.set('c', item('c', dropped), 40);
    expect(dropped).toEqual(['b']);
    expect([lru.bytes, lru.evictions, lru.size]).toEqual([80, 1, 2]);
    expect(lru.get('b')).toBeUndefined();
    expect(sizes.at(-1)).toBe(80);
  });

  it('resizes an entry in place, and only while it still holds the same value', () => {
    const dropped: string[] = [];
    const lru = new ByteLru(100);
    const a = item('a', dropped);
    lru.set('a', a, 10);
    lru.resize('a', a, 60);
    lru.resize('a', item('other', dropped), 5);
    expect(lru.bytes).toBe(60);
    lru.set('b', item('b', dropped), 50);
    expect(dropped).toEqual(['a']);
  });

  it('drops an entry larger than the whole budget at once', () => {
    const dropped: string[] = [];
    const lru = new ByteLru(10);
    lru.set('big', item('big', dropped), 11);
    expect([dropped, lru.bytes, lru.size]).toEqual([['big'], 0, 0]);
  });

  it('tells the value it replaces under the same key, not the one it keeps', () => {
    const dropped: string[] = [];
    const lru = new ByteLru(100);
    const a = item('a', dropped);
    lru.set('k', a, 10);
    lru.set('k', a, 20);
    lru.set('k', item('a2', dropped), 20);
    expect([dropped, lru.bytes]).toEqual([['a'], 20]);
  });
});
