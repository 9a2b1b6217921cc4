import type { Logger } from 'pino';
import { prepared } from '../../storage/postgres/prepared.js';
import type { Queryable } from './repository.js';

/** Remembers the cursor each device pulled, in memory, and writes them in batches. */
export interface PullRecorder {
  /** The device pulled up to cursor at this time (kept in memory until the next flush). */
  record(deviceId: string, cursor: number, at: Date): void;
  /** Writes every pull recorded before this call (never rejects: a failed write is retried later). */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  readonly pending: number;
}

// GREATEST on both: a late flush, or another node's, never moves a cursor or a time back.
// Rows are locked in device_id order, so two nodes flushing overlapping devices cannot deadlock.
const recordPulls = prepared(
  'accounts_record_pulls',
  `WITH pulled AS (
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS v(device_id, cursor, at)
   ), locked AS (
     SELECT d.device_id FROM devices d JOIN pulled USING (device_id) ORDER BY d.device_id FOR UPDATE OF d
   )
   UPDATE devices d SET cursor = GREATEST(d.cursor, p.cursor), last_seen_at = GREATEST(d.last_seen_at, p.at)
     FROM pulled p, locked l
    WHERE d.device_id = p.device_id AND l.device_id = p.device_id`,
);

/**
 * A pull of the changes feed used to cost an UPDATE per page; during a burst, with every device
 * pulling page after page, that is one write per request. Pulls are coalesced per device (the
 * highest cursor and time win) and written at most every intervalMs, in one statement.
 */
export const createPullRecorder = (deps: { db: Queryable; logger: Logger; intervalMs?: number }): PullRecorder => {
  const intervalMs = deps.intervalMs ?? 1000;
  let pending = new Map<string, { cursor: number; at: Date }>();
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const merge = (deviceId: string, cursor: number, at: Date) => {
    const was = pending.get(deviceId);
    pending.set(deviceId, was === undefined ? { cursor, at } : { cursor: Math.max(was.cursor, cursor), at: was.at > at ? was.at : at });
  };
  const schedule = () => {
    if (timer !== undefined || pending.size === 0) return;
    timer = setTimeout(() => void flush(), intervalMs);
    timer.unref();
  };
  const write = async () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return;
    const batch = [...pending].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    pending = new Map();
    try {
      await deps.db.query(recordPulls([batch.map(([d]) => d), batch.map(([, p]) => p.cursor), batch.map(([, p]) => p.at)]));
    } catch (err) {
      deps.logger.warn({ err, devices: batch.length }, 'could not record device pulls; retrying');
      for (const [deviceId, p] of batch) merge(deviceId, p.cursor, p.at);
    } finally {
      schedule();
    }
  };
  // One write at a time; a flush waits for the one in progress, then writes what came since.
  const flush = (): Promise<void> => (chain = chain.then(write));

  return {
    record: (deviceId, cursor, at) => {
      merge(deviceId, cursor, at);
      schedule();
    },
    flush,
    close: async () => {
      await flush();
      clearTimeout(timer);
      timer = undefined;
    },
    get pending() {
      return pending.size;
    },
  };
};
