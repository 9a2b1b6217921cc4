import { projectionStatuses } from '../../projections/admin/status.js';
import type { CliCommand } from '../command.js';
import { databasePool, guarded } from './audit-access.js';

export const adminProjectionsList: CliCommand = {
  path: ['admin', 'projections', 'list'],
  summary: 'Each projection with its checkpoint (log position applied) and its lag (events not applied)',
  usage: '[--json] [--database-url URL]',
  options: { json: { type: 'boolean' }, 'database-url': { type: 'string' } },
  run: guarded(async ({ values }, io) => {
    const pool = databasePool(values, io, 2);
    try {
      const statuses = await projectionStatuses(pool);
      if (values.json === true) {
        io.out.write(`${JSON.stringify(statuses)}\n`);
        return 0;
      }
      io.out.write(`${['projection', 'mode', 'checkpoint', 'newest', 'lag (events)', 'lagging workspaces'].join('\t')}\n`);
      for (const s of statuses) io.out.write(`${[s.name, s.mode, s.checkpoint, s.newest, s.lag, s.laggingWorkspaces].join('\t')}\n`);
      return 0;
    } finally {
      await pool.end();
    }
  }),
};
