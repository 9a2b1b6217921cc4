import type { CliCommand } from '../command.js';
// cli commands: imports (one line each)

/** Every `strata` command. Each module adds its commands on its own line below. */
export const commands: readonly CliCommand[] = [
  // cli commands: list (one line each)
];
