import { verifyProjection } from '../../projections/admin/verify.js';
import { projections } from '../../projections/registry.js';
import { CliError, type CliCommand } from '../command.js';
import { EXIT, databasePool, guarded, stringOption } from './audit-access.js';

export const adminVerify: CliCommand = {
  path: ['admin', 'verify'],
  summary: 'Check that the projections equal a fresh fold of the log; exit 1 on any difference',
  usage: '[--sample N] [--json] [--database-url URL]',
  options: { sample: { type: 'string' }, json: { type: 'boolean' }, 'database-url': { type: 'string' } },
  run: guarded(async ({ values }, io) => {
    const raw = stringOption(values, 'sample');
    const sample = raw === undefined ? undefined : Number(raw);
    if (sample !== undefined && !(Number.isSafeInteger(sample) && sample > 0)) throw new CliError('--sample must be a positive whole number');
    const pool = databasePool(values, io, 2);
    try {
      let different = false;
      for (const projection of projections) {
        const report = await verifyProjection(pool, projection, sample === undefined ? {} : { sample });
        different ||= report.differences.length > 0;
        if (values.json === true) {
          io.out.write(`${JSON.stringify({ projection: projection.name, ...report })}\n`);
          continue;
        }
        io.out.write(`${projection.name}: ${report.workspaces} workspaces, ${report.events} events checked, ${report.differences.length === 0 ? 'no differences' : `${report.differences.length} differences`}\n`);
        for (const d of report.differences)
          io.out.write(`  workspace ${d.workspaceId} ${d.table}: ${d.onlyInProjection} rows only in the projection, ${d.onlyInLog} only in the fold of the log\n`);
      }
      return different ? EXIT.failed : EXIT.ok;
    } finally {
      await pool.end();
    }
  }),
};
