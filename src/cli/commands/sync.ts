import { Stopped } from '../../client/api/errors.js';
import type { Reporter, SyncOptions } from '../../client/sync/context.js';
import { SyncEngine, type RoundStats } from '../../client/sync/engine.js';
import { folderStatus } from '../../client/status.js';
import { CliError, type CliCommand, type CliIo } from '../command.js';
import { progressBar } from '../progress.js';
import { human } from '../units.js';
import { EXIT, explain } from './errors.js';

// Transfers smaller than this finish before a bar would be worth drawing.
const BAR_BYTES = 8 * 1024 * 1024;
const BAR_FILES = 50;

/** Lines for people on stdout/stderr, and a progress bar (bytes, files, speed) for long transfers. */
export const cliReporter = (io: CliIo): Reporter => ({
  info: (message) => void io.out.write(`strata: ${message}\n`),
  warn: (message) => void io.err.write(`strata: ${message}\n`),
  transfer: (kind, totalBytes, totalFiles) => {
    if (totalBytes < BAR_BYTES && totalFiles < BAR_FILES) return { advance: () => undefined, done: () => undefined };
    const bar = progressBar(io, kind === 'upload' ? 'uploading  ' : 'downloading', totalBytes, 'bytes');
    let bytes = 0;
    let files = 0;
    return {
      advance: (b, f = 0) => {
        bytes += b;
        files += f;
        bar.update(Math.min(bytes, totalBytes), { shown: `${human(bytes)}/${human(totalBytes)}, ${files}/${totalFiles} files` });
      },
      done: () => bar.stop(),
    };
  },
});

const envNumber = (io: CliIo, name: string): number | undefined => {
  const raw = io.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${name} must be a number of milliseconds, got ${raw}`);
  return n;
};

const optionsFrom = (io: CliIo, values: Record<string, unknown>): Partial<SyncOptions> => {
  const options: { -readonly [K in keyof SyncOptions]?: SyncOptions[K] } = { confirmDeletes: values['confirm-deletes'] === true };
  const stable = envNumber(io, 'STRATA_STABLE_MS');
  const rescan = envNumber(io, 'STRATA_RESCAN_MS');
  const backoff = envNumber(io, 'STRATA_MAX_BACKOFF_MS');
  if (stable !== undefined) options.stableMs = stable;
  if (rescan !== undefined) options.rescanMs = Math.max(1000, rescan);
  if (backoff !== undefined) options.maxBackoffMs = Math.max(1000, backoff);
  return options;
};

const summary = (s: RoundStats): string | null => {
  const parts: string[] = [];
  if (s.applied > 0) parts.push(`${s.applied} change(s) from the server applied`);
  if (s.pushed > 0) parts.push(`${s.pushed} change(s) sent`);
  if (s.conflicts > 0) parts.push(`${s.conflicts} conflicted cop${s.conflicts === 1 ? 'y' : 'ies'} made`);
  return parts.length === 0 ? null : parts.join(', ');
};

const folderArg = (positionals: readonly string[]): string => {
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new CliError('give exactly one folder');
  return dir;
};

export const syncCommand: CliCommand = {
  path: ['sync'],
  summary: 'Keep DIR identical to the workspace, until stopped (--once: one full round)',
  usage: 'DIR [--once] [--confirm-deletes]',
  options: { once: { type: 'boolean' }, 'confirm-deletes': { type: 'boolean' } },
  run: async ({ values, positionals }, io) => {
    const dir = folderArg(positionals);
    const options = optionsFrom(io, values);
    const stop = new AbortController();
    let signals = 0;
    // The first signal lets the current step finish or abandon cleanly; a second one does not wait.
    const onSignal = () => {
      if (++signals > 1) process.exit(130);
      io.err.write('strata: stopping...\n');
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let engine: SyncEngine | null = null;
    try {
      engine = await SyncEngine.open(dir, cliReporter(io), options, stop.signal);
      if (values.once === true) {
        const result = await engine.syncUntilQuiet(envNumber(io, 'STRATA_GIVE_UP_MS') ?? 60_000);
        if (result.inSync) {
          io.out.write(`strata: ${dir} is in sync (cursor ${engine.ctx.state.cursor})\n`);
          return EXIT.ok;
        }
        if (result.held !== null) {
          io.err.write(`strata: deletes are paused; run \`strata sync ${dir} --once --confirm-deletes\` if you meant them\n`);
          return EXIT.folder;
        }
        io.err.write(`strata: ${dir} is not fully in sync yet (files still changing, or steps to retry); run it again\n`);
        return 1;
      }
      io.out.write(`strata: syncing ${dir} (Ctrl-C to stop)\n`);
      await engine.watch((stats) => {
        const line = summary(stats);
        if (line !== null) io.out.write(`strata: ${line}\n`);
      });
      return EXIT.ok;
    } catch (e) {
      if (e instanceof Stopped || stop.signal.aborted) return EXIT.ok;
      throw explain(e);
    } finally {
      await engine?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

export const statusCommand: CliCommand = {
  path: ['status'],
  summary: 'Show pending uploads, downloads and conflicts of a synced folder',
  usage: 'DIR',
  options: {},
  run: async ({ positionals }, io) => {
    const dir = folderArg(positionals);
    let status;
    try {
      status = await folderStatus(dir);
    } catch (e) {
      throw explain(e);
    }
    const { uploads, downloads } = status;
    const w = (line: string) => void io.out.write(`${line}\n`);
    w(`folder     ${status.root}`);
    w(`device     ${status.config.deviceName} (${status.config.email} on ${status.config.server})`);
    w(`cursor     ${status.cursor}${downloads === null ? '' : ` (server at ${downloads.serverCursor})`}`);
    const pendingUp = uploads.newFiles + uploads.changedFiles + uploads.gone + uploads.interrupted;
    w(
      `uploads    ${pendingUp} pending: ${uploads.newFiles} new and ${uploads.changedFiles} changed file(s) (${human(uploads.bytes)}), ` +
        `${uploads.gone} moved or deleted, ${uploads.interrupted} interrupted`,
    );
    w(downloads === null ? `downloads  unknown: ${status.unreachable ?? 'server unreachable'}` : `downloads  ${downloads.files} pending (${human(downloads.bytes)})`);
    const conflicts = status.reports.filter((r) => r.kind === 'conflict' || r.kind === 'name_collision' || r.kind === 'edit_kept');
    w(`conflicts  ${conflicts.length}`);
    for (const r of conflicts.slice(-20)) w(`  ${r.at}  ${r.message}`);
    const other = status.reports.filter((r) => r.kind === 'held_deletes' || r.kind === 'unsyncable');
    for (const r of other.slice(-10)) w(`note       ${r.message}`);
    return EXIT.ok;
  },
};
