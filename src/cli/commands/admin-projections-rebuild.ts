import { rebuildLive, type RebuildPhase } from '../../projections/admin/rebuildLive.js';
import { projectionNamed, projections } from '../../projections/registry.js';
import { CliError, type CliCommand } from '../command.js';
import { progressBar, type Progress } from '../progress.js';
import { databasePool } from './audit-access.js';

export const adminProjectionsRebuild: CliCommand = {
  path: ['admin', 'projections', 'rebuild'],
  summary: 'Rebuild a projection from the log while the service keeps running, then switch to it',
  usage: 'NAME [--database-url URL]',
  options: { 'database-url': { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    const name = positionals[0];
    const projection = name === undefined ? undefined : projectionNamed(name);
    if (projection === undefined) throw new CliError(`name a projection: ${projections.map((p) => p.name).join(', ')}`);
    const pool = databasePool(values, io, 6);
    let bar: Progress | null = null;
    let phase: RebuildPhase | null = null;
    try {
      const result = await rebuildLive(pool, projection, {
        onProgress: (p) => {
          if (p.phase !== phase) {
            bar?.stop();
            bar = null;
            phase = p.phase;
            if (phase === 'build') bar = progressBar(io, `rebuild ${projection.name}`, p.total, 'events');
            else io.err.write(`${phase}...\n`);
          }
          bar?.update(p.events);
        },
      });
      (bar as Progress | null)?.stop();
      io.out.write(
        `rebuilt ${projection.name}: ${result.built} events folded, ${result.caughtUp} caught up, ${result.appliedInSwitch} applied while ` +
          `writers waited ${result.switchMs.toFixed(0)} ms; ${result.seconds.toFixed(1)} s, ${Math.round(result.built / result.seconds)} events/s\n`,
      );
      return 0;
    } finally {
      (bar as Progress | null)?.stop();
      await pool.end();
    }
  },
};
