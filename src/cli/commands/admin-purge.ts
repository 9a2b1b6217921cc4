import crypto from 'node:crypto';
import { createCommandHandler } from '../../commands/handle.js';
import { createPostgresWorkspaceStore } from '../../commands/postgres/workspaceStore.js';
import { loadConfig } from '../../config/env.js';
import { dryRunReport, executePurge, planPurge, type PurgePlan, type PurgeReport } from '../../maintenance/purge.js';
import type { CliCommand, CliIo } from '../command.js';
import { progressBar } from '../progress.js';
import { human } from '../units.js';
import { databaseOption, wholeNumber, withDatabase } from './admin-database.js';
import { guarded } from './audit-access.js';

const listPlan = (io: CliIo, plan: PurgePlan): void => {
  for (const t of plan.trash)
    io.out.write(`  trash     ${t.workspaceId} ${t.path} (${t.kind}, deleted ${t.deletedAt.toISOString()}, ${human(t.bytes)})\n`);
  for (const v of plan.versions)
    io.out.write(`  versions  ${v.workspaceId} ${v.path} (file ${v.nodeId}): ${v.versionIds.length} old version(s), ${human(v.bytes)}\n`);
};

const summary = (r: PurgeReport, retentionDays: number): string =>
  `${r.dryRun ? 'would purge' : 'purged'} ${r.trashPurged} trashed item(s) and ${r.versionsPurged} old version(s), ${human(r.bytes)} of file versions ` +
  `(kept ${retentionDays} days: deleted or superseded before ${r.cutoff.toISOString()})` +
  (r.skipped > 0 ? `; ${r.skipped} changed meanwhile and were left alone` : '') +
  (r.dryRun ? '' : '. Chunks no other version uses are freed by `strata admin gc`.');

/** `strata admin purge`: what the server's scheduled retention purge does, now, from an operator's shell. */
export const adminPurgeCommand: CliCommand = {
  path: ['admin', 'purge'],
  summary: 'Purge trash and old versions past the retention period (--dry-run: only list them)',
  usage: '[--dry-run] [--retention-days N] [--database-url URL] [--json]',
  options: { 'dry-run': { type: 'boolean' }, 'retention-days': { type: 'string' }, json: { type: 'boolean' }, ...databaseOption },
  run: guarded(async ({ values }, io) => {
    const retentionDays = wholeNumber(values, 'retention-days', loadConfig(io.env).retentionDays);
    const dryRun = values['dry-run'] === true;
    const report = await withDatabase(io, values, async (pool) => {
      const now = new Date();
      const plan = await planPurge(pool, now, retentionDays, Number.MAX_SAFE_INTEGER);
      if (dryRun) {
        if (values.json !== true) listPlan(io, plan);
        return dryRunReport(plan);
      }
      const handle = createCommandHandler({ store: createPostgresWorkspaceStore(pool), newEventId: () => crypto.randomUUID() });
      const total = plan.trash.length + plan.versions.length;
      const bar = progressBar(io, 'purging', total, 'files');
      try {
        return await executePurge(handle, plan, now, (done) => bar.update(done));
      } finally {
        bar.stop();
      }
    });
    io.out.write(values.json === true ? `${JSON.stringify(report)}\n` : `${summary(report, retentionDays)}\n`);
    return 0;
  }),
};
