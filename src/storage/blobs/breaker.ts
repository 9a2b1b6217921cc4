import CircuitBreaker from 'opossum';
import { BlobBodyError, BlobStoreUnavailableError } from './errors.js';
import type { BlobStore, PresignCapability, StoredChunk } from './port.js';

export interface CircuitBreakerOptions {
  /** Budget for each metadata call (stat, get's headers, delete, ping, one step of list, presigning). */
  readonly timeoutMs?: number;
  /**
   * Budget for put and verifyStaged, which move a whole chunk. put's clock includes the client's
   * upload, so the gateway's own body timeout must be shorter than this: a slow client then ends as
   * a body error, which the circuit ignores, rather than as a timeout, which it counts.
   */
  readonly transferTimeoutMs?: number;
  /** Open once this share of calls (in percent) in the rolling window failed... */
  readonly errorThresholdPercentage?: number;
  /** ...and at least this many calls were made in it. */
  readonly volumeThreshold?: number;
  readonly rollingWindowMs?: number;
  /** How long the circuit stays open before letting one trial call through. */
  readonly resetTimeoutMs?: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Timeouts count as failures. */
export interface CircuitStats {
  readonly fires: number;
  readonly successes: number;
  readonly failures: number;
  readonly rejects: number;
}

/** The circuit as metrics and readiness see it. */
export interface CircuitView {
  /** The state right now. */
  state(): CircuitState;
  /** Counts over the rolling window. */
  stats(): CircuitStats;
  /** Calls listener on every state change; answers a function that stops that. */
  onStateChange(listener: (state: CircuitState) => void): () => void;
  /** Stops the breaker's timers. */
  shutdown(): void;
}

export type GuardedBlobStore = BlobStore & { readonly circuit: CircuitView };

type Call = () => Promise<unknown>;
type Discard = (late: unknown) => void;

class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
}

/** discard releases what a call returns after its caller gave up on it (an open stream). */
const withTimeout = async (call: Call, timeoutMs: number, discard: Discard): Promise<unknown> => {
  let timer: NodeJS.Timeout | undefined;
  const running = call();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.then(discard, () => undefined);
      reject(new CallTimeoutError(`blob store call took over ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
};

const keep: Discard = () => undefined;

/**
 * Every call of store goes through one opossum circuit: failures and timeouts open it, and while it
 * is open calls fail at once with BlobStoreUnavailableError instead of queueing on a dead store.
 * Timeouts are ours, not opossum's, because a put legitimately takes longer than a stat.
 */
export const withCircuitBreaker = (store: BlobStore, options: CircuitBreakerOptions = {}): GuardedBlobStore => {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const transferTimeoutMs = options.transferTimeoutMs ?? 120_000;
  const resetTimeoutMs = options.resetTimeoutMs ?? 10_000;
  const breaker = new CircuitBreaker<[Call, number, Discard], unknown>(withTimeout, {
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 5,
    rollingCountTimeout: options.rollingWindowMs ?? 10_000,
    resetTimeout: resetTimeoutMs,
    // A client that went away says nothing about the store's health.
    errorFilter: (error: unknown) => error instanceof BlobBodyError,
  });
  let openedAt = 0;
  breaker.on('open', () => {
    openedAt = Date.now();
  });
  const retryAfterSeconds = (): number => Math.max(1, Math.ceil((openedAt + resetTimeoutMs - Date.now()) / 1000));

  const guard = async <T>(call: () => Promise<T>, budgetMs = timeoutMs, discard: (late: T) => void = keep): Promise<T> => {
    try {
      // opossum types one result for the whole breaker; each call here knows its own.
      return (await breaker.fire(call, budgetMs, discard as Discard)) as T;
    } catch (error) {
      if (error instanceof CallTimeoutError) throw new BlobStoreUnavailableError(error.message, 1, { cause: error });
      const code = (error as { code?: unknown }).code;
      if (CircuitBreaker.isOurError(error as Error) && (code === 'EOPENBREAKER' || code === 'ESEMLOCKED'))
        throw new BlobStoreUnavailableError('blob store circuit is open', retryAfterSeconds(), { cause: error });
      throw error;
    }
  };

  async function* list(): AsyncIterable<StoredChunk> {
    const chunks = store.list()[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        const step = await guard(() => chunks.next());
        if (step.done) {
          done = true;
          return;
        }
        yield step.value;
      }
    } finally {
      if (!done) await chunks.return?.();
    }
  }

  const presign = (inner: PresignCapability): PresignCapability => ({
    putUrl: (hash, expires) => guard(() => inner.putUrl(hash, expires)),
    getUrl: (hash, expires) => guard(() => inner.getUrl(hash, expires)),
    verifyStaged: (hash, stagingId, opts) => guard(() => inner.verifyStaged(hash, stagingId, opts), transferTimeoutMs),
    sweepStaged: (before) => guard(() => inner.sweepStaged(before), transferTimeoutMs),
  });

  const state = (): CircuitState => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed');
  const circuit: CircuitView = {
    state,
    stats: () => {
      const { fires, successes, failures, rejects } = breaker.stats;
      return { fires, successes, failures, rejects };
    },
    onStateChange: (listener) => {
      const notify = (): void => listener(state());
      breaker.on('open', notify).on('halfOpen', notify).on('close', notify);
      return () => void breaker.off('open', notify).off('halfOpen', notify).off('close', notify);
    },
    shutdown: () => breaker.shutdown(),
  };

  return {
    put: async (hash, body, opts) => {
      // The half-open trial should be a quick call, not an upload paced by some client.
      if (breaker.halfOpen) await guard(() => store.ping());
      return guard(() => store.put(hash, body, opts), transferTimeoutMs);
    },
    stat: (hash) => guard(() => store.stat(hash)),
    get: (hash, range) => guard(() => store.get(hash, range), timeoutMs, (late) => late?.destroy()),
    delete: (hash) => guard(() => store.delete(hash)),
    list,
    ping: () => guard(() => store.ping()),
    ...(store.presign === undefined ? {} : { presign: presign(store.presign) }),
    ...(store.putMany === undefined ? {} : { putMany: (chunks) => guard(() => (store.putMany as NonNullable<BlobStore['putMany']>)(chunks), transferTimeoutMs) }),
    ...(store.storedAmong === undefined ? {} : { storedAmong: (hashes) => guard(() => (store.storedAmong as NonNullable<BlobStore['storedAmong']>)(hashes)) }),
    ...(store.getMany === undefined ? {} : { getMany: (hashes) => guard(() => (store.getMany as NonNullable<BlobStore['getMany']>)(hashes), transferTimeoutMs) }),
    // Maintenance, off every request's path: it runs as long as the dead space takes, with no budget.
    ...(store.compact === undefined ? {} : { compact: store.compact }),
    circuit,
  };
};
