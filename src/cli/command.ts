import type { ParseArgsConfig } from 'node:util';

export interface CliIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when out is a terminal: progress bars and colours only then. */
  readonly interactive: boolean;
}

/** One `strata ...` command. `path` is its words ("audit log"); options follow node:util parseArgs. */
export interface CliCommand {
  readonly path: readonly string[];
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves with the process exit code. */
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, io: CliIo): Promise<number>;
}

/** A refusal to show the user as is (bad arguments, a server's error message), exit code 2 unless said. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
