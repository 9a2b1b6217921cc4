import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ServerUnavailable, Stopped } from '../api/errors.js';
import { createHttp } from '../api/http.js';
import { createSession } from '../api/session.js';
import { createApi } from '../api/v1.js';
import { createDescriber } from '../chunking/describer.js';
import { IN_MEMORY_BYTES } from '../local/describe.js';
import { loadIgnoreRules } from '../local/ignore.js';
import { baseOf, nameKey, parentOf } from '../local/names.js';
import { sameStat, scanFolder, statOf, type Scan } from '../local/scan.js';
import { watchFolder, type WatchEvent } from '../local/watcher.js';
import { isErrno } from '../state/files.js';
import { FolderProblem, openSyncedFolder, readConfig } from '../state/layout.js';
import { ClientState } from '../state/store.js';
import { limiter, serial } from '../../concurrency/limit.js';
import { moveAside } from './aside.js';
import { DEFAULT_SYNC_OPTIONS, type Reporter, type SyncContext, type SyncOptions } from './context.js';
import { acquireSyncLock } from './lock.js';
import { watchRemote } from './notify.js';
import { sleep, waitFor } from './sleep.js';
import { describeEarly, planPush, type PushPlan } from './plan.js';
import { pullAndReconcile, pullChanges, pullMeanwhile, reconcile } from './pull.js';
import { executePush, resumeCommits } from './push.js';

export interface RoundStats {
  readonly pulled: number;
  /** Local files and folders changed to match the server. */
  readonly applied: number;
  readonly conflicts: number;
  /** Calls that changed the server. */
  readonly pushed: number;
  /** Steps to redo in a later round (the server or a file changed meanwhile, a download deferred). */
  readonly retry: number;
  /** Files still being written. */
  readonly unstable: number;
  readonly held: PushPlan['held'];
  /** Whether the round walked the folder for local changes. */
  readonly scanned: boolean;
}

const MAX_STALLED_ROUNDS = 5;
// From this many files to send (two batches), the push's own events are pulled while it runs.
const PULL_DURING_PUSH_FROM = 1000;
// Quiet time after a round of downloads before the scan that confirms them (watch mode).
const CONFIRM_SCAN_AFTER_MS = 1000;
const COMPACT_ON_CLOSE_BYTES = 4 * 1024 * 1024;

/** Exponential backoff with jitter: 1 s doubling up to max, each wait drawn from its upper half. */
export const backoffMs = (failures: number, maxMs: number): number => Math.min(maxMs, 1000 * 2 ** Math.max(0, failures - 1)) * (0.5 + Math.random() * 0.5);

/**
 * One synced folder of this device. A round: resume interrupted commits (first round only), pull
 * the changes feed, bring the folder in line with it, scan, push what changed here, pull again (our
 * own events, and whatever raced with them).
 */
export class SyncEngine {
  private resumed = false;
  private readonly unsyncableSeen = new Set<string>();
  private heldSeen: string | null = null;
  private lastHeld: PushPlan['held'] = null;

  private constructor(
    readonly ctx: SyncContext,
    private readonly tokens: ReturnType<typeof createSession>,
    private readonly releaseLock: () => Promise<void>,
    private readonly internal: AbortController,
  ) {}

  static async open(dir: string, reporter: Reporter, options: Partial<SyncOptions> = {}, stop?: AbortSignal): Promise<SyncEngine> {
    const { layout, config } = await openSyncedFolder(dir);
    const releaseLock = await acquireSyncLock(layout);
    try {
      // Partial downloads of an earlier run: never in the folder itself, and worthless now.
      for (const name of await fs.readdir(layout.tmp)) await fs.rm(path.join(layout.tmp, name), { recursive: true, force: true });
      const state = await ClientState.open(layout.journalDir);
      const internal = new AbortController();
      const signal = stop === undefined ? internal.signal : AbortSignal.any([stop, internal.signal]);
      const tokens = createSession(layout, config.server);
      const api = createApi(createHttp(config.server, tokens, signal), config.workspaceId);
      const all = { ...DEFAULT_SYNC_OPTIONS, ...options };
      const rules = await loadIgnoreRules(layout.root);
      const describer = createDescriber();
      // A large file cut here is the kind that gets edited in place: its next describe need not wait for the thread to load.
      for (const entry of state.synced.values())
        if (entry.kind === 'file' && entry.localCuts === true && entry.stat.size > IN_MEMORY_BYTES) {
          describer.warm();
          break;
        }
      const ctx: SyncContext = {
        layout,
        config,
        api,
        state,
        reporter,
        options: all,
        stop: signal,
        rules,
        chunkSlot: limiter(all.chunkConcurrency),
        commitSlot: limiter(all.commitConcurrency),
        dirtyDirs: new Set(),
        replaced: [],
        renameSlot: serial(),
        described: new Map(),
        describing: new Map(),
        describer,
        uploaded: new Map(),
        ahead: { inFlight: 0 },
        batchCalls: true,
      };
      return new SyncEngine(ctx, tokens, releaseLock, internal);
    } catch (e) {
      await releaseLock();
      throw e;
    }
  }

  /** The folder and its marker are still there: an unmounted disk mid-run stops the sync, it never deletes. */
  private async checkFolder(): Promise<void> {
    const { layout } = this.ctx;
    const stat = await fs.stat(layout.root).catch(() => null);
    if (stat?.isDirectory() !== true) throw new FolderProblem(`${layout.root} disappeared (an unmounted disk?): stopping. Nothing was deleted.`);
    if ((await readConfig(layout).catch(() => null)) === null)
      throw new FolderProblem(`${layout.root} lost its .strata/ marker (an unmounted disk?): stopping. Nothing was deleted.`);
  }

  /** Siblings whose names the server would take for one (case, Unicode form): all but one step aside, reported. */
  private async resolveNameCollisions(scan: Scan): Promise<boolean> {
    const groups = new Map<string, string[]>();
    for (const p of scan.entries.keys()) {
      const key = `${parentOf(p)}\u0000${nameKey(baseOf(p))}`;
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    let renamed = false;
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const keep = group.find((p) => this.ctx.state.synced.has(p)) ?? [...group].sort()[0];
      for (const p of group)
        if (p !== keep)
          renamed ||=
            (await moveAside(this.ctx, p, 'name_collision', `another item in this folder is named ${baseOf(keep ?? '')} (the server compares names ignoring case and Unicode form)`)) !== null;
    }
    return renamed;
  }

  /**
   * A watcher event for what this device itself just put in the folder: a file or folder that is,
   * right now, exactly as the journal has it synced (same size, mtime and inode). A download round
   * of 500 files otherwise had the next round scan the whole folder, 20 scans of up to 10,000 files
   * while another device sends a first sync. Anything else, a deletion included, is a change to scan.
   */
  private isOwnWrite(event: WatchEvent, file: string): boolean {
    if (event === 'delete') return false;
    const rel = path.relative(this.ctx.layout.root, file).split(path.sep).join('/');
    const synced = this.ctx.state.synced.get(rel);
    if (synced === undefined) return false;
    const now = fsSync.lstatSync(file, { throwIfNoEntry: false });
    if (now === undefined) return false;
    if (synced.kind === 'folder') return now.isDirectory() && now.ino === synced.ino;
    return now.isFile() && sameStat(statOf(now), synced.stat);
  }

  private async scan(): Promise<Scan> {
    this.ctx.rules = await loadIgnoreRules(this.ctx.layout.root);
    let scan = await scanFolder(this.ctx.layout.root, this.ctx.rules, (rel, stat) => describeEarly(this.ctx, rel, stat));
    if (await this.resolveNameCollisions(scan)) scan = await scanFolder(this.ctx.layout.root, this.ctx.rules);
    for (const u of scan.unsyncable)
      if (!this.unsyncableSeen.has(u.path)) {
        this.unsyncableSeen.add(u.path);
        this.ctx.state.report({ kind: 'unsyncable', path: u.path, message: `${u.path}: ${u.reason}` });
        this.ctx.reporter.warn(`${u.path}: ${u.reason}; it stays on this device only`);
      }
    return scan;
  }

  /**
   * One round; throws ServerUnavailable when the server cannot be reached (nothing is lost).
   * local false: only the server moved (a socket push), nothing here did: no scan of the folder.
   */
  async round(local = true): Promise<RoundStats> {
    const { ctx } = this;
    await this.checkFolder();
    let pushed = 0;
    let retry = 0;
    if (!this.resumed) {
      const resumed = await resumeCommits(ctx);
      pushed += resumed.done;
      retry += resumed.stale;
      this.resumed = true;
    }
    const first = await pullAndReconcile(ctx);
    let pulled = first.pulled;
    if (!local)
      return { pulled, applied: first.changed, conflicts: first.conflicts, pushed, retry: retry + first.deferred, unstable: 0, held: this.lastHeld, scanned: false };
    const plan = await planPush(ctx, await this.scan());
    this.lastHeld = plan.held;
    if (plan.held !== null) {
      const where = plan.held.folder === '' ? 'the synced folder' : plan.held.folder;
      const message = `${plan.held.files} of the ${plan.held.of} files in ${where} were deleted here: deletes are paused until you run the sync with --confirm-deletes`;
      if (this.heldSeen !== message) {
        this.heldSeen = message;
        ctx.state.report({ kind: 'held_deletes', path: plan.held.folder, message });
        ctx.reporter.warn(message);
      }
    } else this.heldSeen = null;
    const pushing = executePush(ctx, plan);
    // A push of many files waits on the server for seconds: its own events are pulled meanwhile.
    const meanwhile = plan.uploads.length >= PULL_DURING_PUSH_FROM ? pullMeanwhile(ctx, pushing) : Promise.resolve(0);
    let result;
    try {
      result = await pushing;
    } finally {
      pulled += await meanwhile;
    }
    pushed += result.done;
    retry += result.stale;
    let second = { changed: 0, conflicts: 0, deferred: 0 };
    if (result.done > 0 || result.stale > 0) {
      pulled += await pullChanges(ctx);
      second = await reconcile(ctx);
    }
    return {
      pulled,
      applied: first.changed + second.changed,
      conflicts: first.conflicts + second.conflicts,
      pushed,
      retry: retry + first.deferred + second.deferred,
      unstable: plan.unstable.length,
      held: plan.held,
      scanned: true,
    };
  }

  /**
   * Rounds until one finds nothing to do (files still being written are waited for). Answers the
   * last round and whether the folder is in sync. An unreachable server is retried with backoff
   * until giveUpMs, then rethrown.
   */
  async syncUntilQuiet(giveUpMs = 60_000, maxRounds = 200): Promise<RoundStats & { inSync: boolean }> {
    const started = Date.now();
    let failures = 0;
    let stalled = 0;
    let last: RoundStats | null = null;
    let scanNext = true;
    for (let rounds = 0; rounds < maxRounds; ) {
      if (this.ctx.stop.aborted) throw new Stopped('stopping');
      try {
        last = await this.round(scanNext);
        rounds++;
        failures = 0;
        // A round scans the folder after it applied what it pulled: if it then had nothing to
        // send, the folder is confirmed as it left it, and the next round only asks the server
        // (a second scan of 10,000 files cost ~0.3 s of a first sync). One that did not scan, or
        // sent or left something, is followed by one that scans.
        scanNext = !(last.scanned && last.pushed === 0 && last.retry === 0 && last.unstable === 0 && last.conflicts === 0);
      } catch (e) {
        if (!(e instanceof ServerUnavailable) || Date.now() - started > giveUpMs) throw e;
        failures++;
        const wait = Math.max(e.retryAfterMs ?? 0, backoffMs(failures, this.ctx.options.maxBackoffMs));
        this.ctx.reporter.warn(`server unreachable (${e.message}); retrying in ${(wait / 1000).toFixed(1)} s, local changes are kept`);
        await sleep(wait, this.ctx.stop);
        continue;
      }
      const busy = last.pushed > 0 || last.applied > 0 || last.retry > 0 || last.unstable > 0;
      if (!busy) return { ...last, inSync: last.held === null };
      const progressed = last.pushed > 0 || last.applied > 0;
      stalled = progressed ? 0 : stalled + 1;
      // Steps that keep failing without anything moving (a damaged chunk, a name the server keeps
      // refusing): a few spaced retries, then the caller hears that the folder is not in sync.
      if (last.unstable === 0 && stalled > MAX_STALLED_ROUNDS) break;
      if (last.unstable > 0 && !progressed) await sleep(Math.max(50, this.ctx.options.stableMs / 2), this.ctx.stop);
      else if (stalled > 1) await sleep(backoffMs(stalled - 1, 10_000), this.ctx.stop);
    }
    if (last === null) throw new Error('no round ran');
    return { ...last, inSync: false };
  }

  /**
   * Syncs until stop: a first full sync, then a round whenever the folder changes (watcher,
   * debounced), the server says the workspace moved (socket push, or long-poll while the socket is
   * down), a periodic rescan is due, or a retry is. An unreachable server is retried with
   * exponential backoff and jitter (1 s doubling to the maximum); local changes wait on disk.
   */
  async watch(onRound: (stats: RoundStats) => void = () => undefined): Promise<void> {
    const { ctx } = this;
    let wake: (() => void) | null = null;
    let due = true;
    // Whether the folder may have changed since the last scan: a socket push alone needs no scan.
    let localDue = true;
    const trigger = (local: boolean) => {
      due = true;
      localDue ||= local;
      wake?.();
    };
    const local = watchFolder(
      ctx.layout.root,
      (event, file) => {
        if (!this.isOwnWrite(event, file)) trigger(true);
      },
      (e) => ctx.reporter.warn(`watcher: ${String(e)}`),
    );
    const remote = watchRemote({
      server: ctx.config.server,
      workspaceId: ctx.config.workspaceId,
      tokens: this.tokens,
      api: ctx.api,
      cursor: () => ctx.state.cursor,
      onChange: () => trigger(false),
      stop: ctx.stop,
    });
    const rescan = setInterval(() => trigger(true), ctx.options.rescanMs);
    let confirm: NodeJS.Timeout | undefined;
    let failures = 0;
    try {
      while (!ctx.stop.aborted) {
        if (!due) {
          await waitFor(ctx.stop, (resolve) => {
            wake = resolve;
          });
          wake = null;
          // Let a burst of local events (a copy of many files) settle into one round; a push from
          // the server is pulled at once.
          if (localDue) await sleep(150, ctx.stop);
          if (ctx.stop.aborted) break;
        }
        due = false;
        const scan: boolean = localDue;
        localDue = false;
        // This round's scan confirms whatever downloads were waiting for one.
        if (scan) clearTimeout(confirm);
        try {
          const stats = await this.round(scan);
          failures = 0;
          onRound(stats);
          // Downloads changed the folder and no scan followed them in this round: one confirms them
          // (and sees edits made meanwhile) once the server has been quiet for a moment, not after
          // every round of a burst (the watcher reports edits, and leaves out this device's writes).
          if (stats.applied > 0 && !scan) {
            clearTimeout(confirm);
            confirm = setTimeout(() => trigger(true), CONFIRM_SCAN_AFTER_MS);
          }
          if (stats.unstable > 0 || stats.retry > 0 || stats.pushed > 0)
            setTimeout(() => trigger(true), Math.max(100, stats.unstable > 0 ? ctx.options.stableMs / 2 : 500));
        } catch (e) {
          if (e instanceof Stopped || ctx.stop.aborted) break;
          if (!(e instanceof ServerUnavailable)) throw e;
          failures++;
          const wait = Math.max(e.retryAfterMs ?? 0, backoffMs(failures, ctx.options.maxBackoffMs));
          ctx.reporter.warn(`server unreachable (${e.message}); retrying in ${(wait / 1000).toFixed(1)} s, local changes are kept`);
          await sleep(wait, ctx.stop);
          due = true;
          localDue ||= scan;
        }
      }
    } finally {
      clearInterval(rescan);
      clearTimeout(confirm);
      remote.close();
      await local.close();
    }
  }

  async close(): Promise<void> {
    this.internal.abort();
    await this.ctx.describer.close();
    // Replaced files a checkpoint did not get to let go of (a round cut short).
    for (const fd of this.ctx.replaced.splice(0)) fsSync.closeSync(fd);
    try {
      // A long journal is folded into the snapshot; a short one is cheaper to replay at the next
      // start than a snapshot of a large tree is to write now.
      if (this.ctx.state.journalBytes > COMPACT_ON_CLOSE_BYTES)
        await this.ctx.state.compact().catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)));
      await this.ctx.state.close();
    } finally {
      await this.releaseLock();
    }
  }
}
