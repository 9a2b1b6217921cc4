/** The server answered with an error envelope: a refusal the sync decides what to do about (conflict, not found, ...). */
export class ServerRefusal extends Error {
  override readonly name = 'ServerRefusal';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** The server could not be reached or asked to come back later: retry after a backoff, losing nothing. */
export class ServerUnavailable extends Error {
  override readonly name = 'ServerUnavailable';
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The device's tokens no longer work (revoked, or a refresh token used twice): only a new login helps. */
export class SignedOut extends Error {
  override readonly name = 'SignedOut';
}

/** The work was abandoned because the sync is stopping. */
export class Stopped extends Error {
  override readonly name = 'Stopped';
}

export const refusalCode = (e: unknown): string | null => (e instanceof ServerRefusal ? e.code : null);
