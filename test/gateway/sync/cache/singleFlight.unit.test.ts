import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../../src/gateway/sync/cache/singleFlight.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('a single flight', () => {
  it('runs the work once for many concurrent callers of one key, and tells who joined', async () => {
    const flights = new SingleFlight<number>();
    const gate = deferred<number>();
    let runs = 0;
    const work = () => (runs++, gate.promise);
    const calls = Array.from({ length: 50 }, () => flights.run('k', 1, 10, work));
    gate.resolve(7);
    const answers = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(answers.map((a) => a.value)).toEqual(Array(50).fill(7));
    expect(answers.filter((a) => !a.joined)).toHaveLength(1);
    expect(flights.inFlight).toBe(0);
  });

  it('lets a caller join a read whose range holds the first thing it lacks, and no other', async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => (runs++, gate.promise);
    const first = flights.run('w', 1, 1001, work);
    const inside = flights.run('w', 1001, 1001, work);
    const after = flights.run('w', 1002, 1001, work);
    const before = flights.run('w', 0, 5, work);
    gate.resolve('read');
    const [f, i, a, b] = await Promise.all([first, inside, after, before]);
    expect(runs).toBe(3);
    expect([f.joined, i.joined, a.joined, b.joined]).toEqual([false, true, false, false]);
    expect([i.from, i.count]).toEqual([1, 1001]);
  });

  it('keeps groups apart and starts again once a flight has landed', async () => {
    const flights = new SingleFlight<string>();
    let runs = 0;
    const [a, b] = await Promise.all([flights.run('a', 1, 10, async () => (runs++, 'A')), flights.run('b', 1, 10, async () => (runs++, 'B'))]);
    expect([a.value, b.value, runs]).toEqual(['A', 'B', 2]);
    await flights.run('a', 1, 10, async () => (runs++, 'A again'));
    expect(runs).toBe(3);
  });

  it('gives the same failure to every caller and frees the key', async () => {
    const flights = new SingleFlight<number>();
    const gate = deferred<number>();
    const calls = [flights.run('k', 1, 10, () => gate.promise), flights.run('k', 5, 10, () => gate.promise)];
    gate.reject(new Error('log down'));
    for (const c of calls) await expect(c).rejects.toThrow('log down');
    expect((await flights.run('k', 1, 10, async () => 1)).value).toBe(1);
  });

  it('lets a caller that needs a fresh answer skip work started before its mark, and later callers join the fresh one', async () => {
    const flights = new SingleFlight<string>();
    const old = deferred<string>();
    const fresh = deferred<string>();
    const first = flights.run('k', 1, 10, () => old.promise);
    const mark = flights.mark();
    let freshRuns = 0;
    const needsFresh = flights.run('k', 1, 10, () => (freshRuns++, fresh.promise), mark);
    const joinsFresh = flights.run('k', 1, 10, () => (freshRuns++, fresh.promise), mark);
    const anyWillDo = flights.run('k', 1, 10, () => Promise.resolve('never'));
    old.resolve('old');
    fresh.resolve('fresh');
    expect((await first).value).toBe('old');
    const [n, j, a] = await Promise.all([needsFresh, joinsFresh, anyWillDo]);
    expect([n.value, j.value, a.value, freshRuns]).toEqual(['fresh', 'fresh', 'fresh', 1]);
    expect(n.started).toBeGreaterThan(mark);
    expect((await first).started).toBeLessThanOrEqual(mark);
  });
});
