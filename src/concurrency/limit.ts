/** Runs at most n of the tasks handed to it at once, in the order they were handed. */
export const limiter = (n: number) => {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
};

/**
 * fn over items, at most n at a time. After a failure no new item is started; the first error is
 * thrown once the running ones have settled, so no task is left running behind the caller's back.
 */
export const forEachLimit = async <T>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<void>): Promise<void> => {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    for (let i = next++; i < items.length && failure === null; i = next++) {
      try {
        await fn(items[i] as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
};

/** A mutex: tasks run one at a time, in order. */
export const serial = () => limiter(1);
