import type { DomainError } from '../domain/errors.js';

/** The command could not get a consistent turn on its stream after bounded retries; safe to retry later. */
export interface BusyError {
  readonly _tag: 'BusyError';
  readonly code: 'busy';
  readonly message: string;
  readonly retryAfterSeconds: number;
}

export type CommandError = DomainError | BusyError;

export const busy = (attempts: number): BusyError => ({
  _tag: 'BusyError',
  code: 'busy',
  message: `The workspace is changing too fast; gave up after ${attempts} attempts.`,
  retryAfterSeconds: 1,
});
