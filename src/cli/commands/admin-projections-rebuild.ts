import { rebuildLive, type RebuildPhase } from '../../projections/admin/rebuildLive.js';
import { projectionNamed, projections } from '../../projections/registry.js';
import { CliError, type CliCommand } from '../command.js';
import { progressBar, type Progress } from '../progress.js';
import { databasePool, guarded } from './audit-access.js';

/** What the operator is told as each phase after the build begins (the build has its progress bar). */
const PHASE_LINES: Record<Exclude<RebuildPhase, 'build'>, string | null> = {
  indexes: 'building indexes (the live tables keep serving)...',
  'catch-up': 'catching up with what was committed meanwhile...',
  switch: 'switching to the new tables (writers wait a moment, reads go on)...',
  done: null,
};

export const adminProjectionsRebuild: CliCommand = {
  path: ['admin', 'projections', 'rebuild'],
  summary: 'Rebuild a projection from the log while the service keeps running, then switch to it',
  usage: 'NAME [--database-url URL]',
  options: { 'database-url': { type: 'string' } },
  run: guarded(async ({ values, positionals }, io) => {
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
            else if (PHASE_LINES[phase] !== null) io.err.write(`${PHASE_LINES[phase]}\n`);
          }
          bar?.update(p.events);
        },
      });
      (bar as Progress | null)?.stop();
      bar = null;
      io.out.write(
        `rebuilt ${projection.name}: ${result.built} events folded, ${result.caughtUp} caught up, ${result.appliedInSwitch} applied while ` +
          `writers waited ${result.switchMs.toFixed(0)} ms; ${result.seconds.toFixed(1)} s, ${Math.round(result.built / result.seconds)} events/s\n`,
      );
      return 0;
    } finally {
      (bar as Progress | null)?.stop();
      await pool.end();
    }
  }),
};
