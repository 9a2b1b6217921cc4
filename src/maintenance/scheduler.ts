import type { Logger } from 'pino';
import type pg from 'pg';
import type { HandleCommand } from '../commands/handle.js';
import type { BlobStore } from '../storage/blobs/port.js';
import { collectGarbage } from './gc/sweep.js';
import { executePurge, planPurge } from './purge.js';

/** Advisory-lock key space of scheduled jobs: one node at a time runs each. */
const JOB_LOCK_SPACE = 7_342_007;
const JOB_KEYS = { purge: 1, gc: 2 } as const;
type Job = keyof typeof JOB_KEYS;

/** How often the scheduled jobs run on this node; null: never. */
export interface MaintenanceSchedule {
  readonly purgeIntervalMs: number | null;
  readonly gcIntervalMs: number | null;
}

export interface MaintenanceDeps {
  readonly pool: pg.Pool;
  /** The gateway's command handler, so devices are told of purges like of any commit. */
  readonly handle: HandleCommand;
  readonly blobs: BlobStore;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly retentionDays: number;
}

export interface Maintenance {
  /** Runs a job now on this node if no node runs it; false when another node holds it. */
  run(job: Job): Promise<boolean>;
  /** Stops the timers and waits for a job in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `fn` while holding the job's session advisory lock, on a connection of its own; skips it
 * when another node (or another run) holds the lock. A node that dies releases it with its connection.
 */
const asLeader = async (pool: pg.Pool, job: Job, fn: () => Promise<void>): Promise<boolean> => {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [JOB_LOCK_SPACE, JOB_KEYS[job]]);
    if (rows[0]?.ok !== true) return false;
    try {
      await fn();
      return true;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [JOB_LOCK_SPACE, JOB_KEYS[job]]);
    }
  } finally {
    client.release();
  }
};

/** The retention purge and the blob GC, each every so often, on one node at a time, with the injected clock. */
export const startMaintenance = (deps: MaintenanceDeps, schedule: MaintenanceSchedule): Maintenance => {
  const jobs: Record<Job, () => Promise<void>> = {
    purge: async () => {
      const now = deps.now();
      const report = await executePurge(deps.handle, await planPurge(deps.pool, now, deps.retentionDays, 1000), now);
      if (report.trashPurged + report.versionsPurged > 0) deps.logger.info({ job: 'purge', ...report }, 'retention purge');
    },
    gc: async () => {
      const report = await collectGarbage({ pool: deps.pool, blobs: deps.blobs, now: deps.now() });
      if (report.deletedChunks > 0) deps.logger.info({ job: 'gc', ...report }, 'blob garbage collected');
    },
  };
  const running = new Set<Promise<unknown>>();
  const timers = new Map<Job, NodeJS.Timeout>();
  let stopped = false;

  const run = (job: Job): Promise<boolean> => {
    const work = asLeader(deps.pool, job, jobs[job]);
    running.add(work);
    return work.finally(() => running.delete(work));
  };
  const every = (job: Job, intervalMs: number | null) => {
    if (intervalMs === null || intervalMs <= 0) return;
    const tick = () => {
      timers.delete(job);
      if (stopped) return;
      run(job)
        .catch((err: unknown) => deps.logger.warn({ err, job }, 'maintenance job failed; it runs again at the next interval'))
        .finally(() => {
          if (!stopped) timers.set(job, setTimeout(tick, intervalMs).unref());
        });
    };
    timers.set(job, setTimeout(tick, intervalMs).unref());
  };
  every('purge', schedule.purgeIntervalMs);
  every('gc', schedule.gcIntervalMs);

  return {
    run,
    stop: async () => {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
};
