/**
 * Errors a blob store throws. Expected outcomes (hash_mismatch, payload_too_large, not_found) are
 * values in the port's results; these are for failures the caller cannot fix by changing its request.
 */

/** Reading the caller's body failed (the client went away): the store itself is fine. */
export class BlobBodyError extends Error {
  override readonly name = 'BlobBodyError';
  constructor(cause: unknown) {
    super('reading the chunk body failed', { cause });
  }
}

/** The blob store is down or too slow; the gateway answers 503 `unavailable` with Retry-After. */
export class BlobStoreUnavailableError extends Error {
  override readonly name = 'BlobStoreUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
