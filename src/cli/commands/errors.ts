import { ServerRefusal, ServerUnavailable, SignedOut } from '../../client/api/errors.js';
import { FolderProblem } from '../../client/state/layout.js';
import { CliError } from '../command.js';

/** Exit codes of the sync commands: a script can tell "not in sync, see why" from a crash. */
export const EXIT = { ok: 0, usage: 2, folder: 3, offline: 4, signedOut: 5 } as const;

/** The errors a person can act on, as a CliError with a plain message and its exit code; others pass through. */
export const explain = (e: unknown): unknown => {
  if (e instanceof FolderProblem) return new CliError(e.message, EXIT.folder);
  if (e instanceof ServerUnavailable) return new CliError(`the server cannot be reached: ${e.message}. Local changes are kept and sent on the next sync.`, EXIT.offline);
  if (e instanceof SignedOut) return new CliError(e.message, EXIT.signedOut);
  if (e instanceof ServerRefusal) return new CliError(`the server refused: ${e.message} (${e.code})`);
  return e;
};

export const stringOption = (values: Record<string, unknown>, name: string): string => {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${name} is required`);
  return v;
};
