import { loadConfig } from '../../config/env.js';
import { collectGarbage, DEFAULT_GC_GRACE_MS, type GcReport } from '../../maintenance/gc/sweep.js';
import { blobStoreFromEnv } from '../../storage/blobs/fromEnv.js';
import { CliError, type CliCommand } from '../command.js';
import { progressBar, type Progress } from '../progress.js';
import { human } from '../units.js';
import { databaseOption, wholeNumber, withDatabase } from './admin-database.js';
import { guarded } from './audit-access.js';

const summary = (r: GcReport): string =>
  `scanned ${r.scannedChunks} chunk(s), ${human(r.scannedBytes)}; ` +
  (r.dryRun
    ? `would delete ${r.garbageChunks} unreferenced chunk(s), freeing ${human(r.garbageBytes)}`
    : `deleted ${r.deletedChunks} unreferenced chunk(s), freed ${human(r.freedBytes)}` +
      (r.sparedChunks > 0 ? `; ${r.sparedChunks} taken back by uploads meanwhile were kept` : '')) +
  (r.packsRewritten + r.packsRemoved > 0
    ? `; ${r.dryRun ? 'would rewrite' : 'rewrote'} ${r.packsRewritten} and ${r.dryRun ? 'remove' : 'removed'} ${r.packsRemoved} pack(s) of small chunks, ${r.dryRun ? 'giving back' : 'gave back'} ${human(r.reclaimedBytes)}`
    : '');

/**
 * `strata admin gc`: mark and sweep of the blob store (the one the server uses: S3_* or
 * STRATA_DATA_DIR/blobs). Safe while servers run; see src/maintenance/gc/sweep.ts.
 */
export const adminGcCommand: CliCommand = {
  path: ['admin', 'gc'],
  summary: 'Delete chunks no version or recent upload references (--dry-run: only count them)',
  usage: '[--dry-run] [--grace-minutes N] [--database-url URL] [--json]',
  options: { 'dry-run': { type: 'boolean' }, 'grace-minutes': { type: 'string' }, json: { type: 'boolean' }, ...databaseOption },
  run: guarded(async ({ values }, io) => {
    const graceMs = wholeNumber(values, 'grace-minutes', DEFAULT_GC_GRACE_MS / 60_000) * 60_000;
    const report = await withDatabase(io, values, async (pool) => {
      const schema = await pool.query<{ ready: boolean }>("SELECT to_regclass('blob_tombstones') IS NOT NULL AND to_regclass('blob_packed') IS NOT NULL AS ready");
      if (schema.rows[0]?.ready !== true) throw new CliError('this database has not been migrated for garbage collection yet: start a server of this version once');
      const blobs = await blobStoreFromEnv(io.env, loadConfig(io.env).dataDir, pool);
      try {
        let bar: Progress | null = null;
        let lastScanLine = 0;
        try {
          return await collectGarbage({
            pool,
            blobs,
            now: new Date(),
            graceMs,
            dryRun: values['dry-run'] === true,
            onProgress: (p) => {
              if (p.phase === 'scan') {
                if (p.chunks - lastScanLine >= 10_000) io.err.write(`scanning: ${p.chunks} chunks, ${human(p.bytes)}\n`);
                lastScanLine = p.chunks - (p.chunks % 10_000);
                return;
              }
              bar ??= progressBar(io, 'deleting', p.total, 'files');
              bar.update(p.done);
            },
          });
        } finally {
          (bar as Progress | null)?.stop();
        }
      } finally {
        blobs.circuit.shutdown();
      }
    });
    io.out.write(values.json === true ? `${JSON.stringify(report)}\n` : `${summary(report)}\n`);
    return 0;
  }),
};
