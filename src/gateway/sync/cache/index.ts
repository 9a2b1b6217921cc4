import type { Logger } from 'pino';
import type { WorkspaceEvent } from '../../../domain/workspace/events.js';
import type { StoredEvent } from '../../../storage/eventlog/types.js';
import { EncodedPages, type Page } from './encodedPages.js';
import { encodeCommittedEvent, encodeLogEvent } from './encoding.js';
import { EventRanges } from './eventRanges.js';
import { ByteLru, type Evictable } from './lru.js';
import { SingleFlight } from './singleFlight.js';

export { negotiateEncoding, type ContentEncoding, type Page } from './encodedPages.js';

/** The log-reader port: the one way the cache reads events. */
export interface ChangesLog {
  /** At most limit events of the workspace after version `after`, oldest first: one read of the log. */
  read(workspaceId: string, after: number, limit: number): Promise<readonly StoredEvent<WorkspaceEvent>[]>;
}

/** Where the cache reports what it does (prom-client counters in the gateway, nothing in unit tests). */
export interface ChangesCacheObserver {
  hit?(): void;
  miss?(): void;
  logRead?(): void;
  size?(bytes: number, evictions: number): void;
}

export interface ChangesCacheStats {
  /** Answers given without waiting for the log. */
  readonly hits: number;
  /** Answers that waited for a read of the log (their own, or one they joined). */
  readonly misses: number;
  /** Reads of the log made (fills and prefetches). */
  readonly logReads: number;
  readonly bytes: number;
  readonly evictions: number;
}

export interface ChangesCacheOptions {
  readonly log: ChangesLog;
  readonly maxBytes: number;
  readonly logger: Logger;
  readonly observer?: ChangesCacheObserver;
  /** Subscribes to cursor moves of one workspace from any node (the ChangeNotifier); answers the unsubscribe. */
  readonly watch?: (workspaceId: string, listener: (cursor: number) => void) => () => void;
}

/** The changes feed of api-v1.md "Sync", answered from memory whenever that answer is exact. */
export interface ChangesCache {
  /** The answer to GET .../changes?cursor=&limit=: the events after cursor, at most limit, and hasMore. */
  changes(workspaceId: string, cursor: number, limit: number): Promise<Page>;
  /** This node committed these events (durable, contiguous). */
  committed(workspaceId: string, events: readonly StoredEvent<WorkspaceEvent>[]): void;
  stats(): ChangesCacheStats;
  close(): void;
}

interface Fill {
  /** Encoded events of one read, contiguous from the first version it asked for. */
  readonly encoded: readonly string[];
  /** How many the read asked for: fewer back means the log ended there when the read ran. */
  readonly requested: number;
}

/** Rounds of reading before a request stops sharing reads and asks the log alone. */
const MAX_SHARED_ROUNDS = 8;
/** A prefetch (another node moved a workspace this node holds) reads at most this many events. */
const MAX_PREFETCH = 5000;

/**
 * Recent events per workspace, kept in memory as contiguous runs, filled from the log on a miss,
 * extended by this node's commits and prefetched on other nodes' notifications.
 *
 * Why an answer is exact:
 * - Only durable events get in: what the log returned (committed, by definition), and what this
 *   node's command handler reports after its COMMIT. Events never change once durable, and a
 *   stream's versions commit in order, so a run read from the log has no hole.
 * - A page is assembled only from a run with no hole starting at cursor + 1 (reading stops at the
 *   first version not held), then from the log.
 * - A full page (limit + 1 events seen: hasMore) is fixed forever. A page that ends at the head is
 *   answered only after a read of the log that started after the request arrived found nothing
 *   more: the head is never guessed from memory or notifications.
 * - Reads of the log are shared: a request joins a read in the air that covers the first version it
 *   lacks, so many devices asking for the same range at once cause one read (single flight); a
 *   request that needs the head joins only reads that started after it arrived.
 */
export const createChangesCache = (options: ChangesCacheOptions): ChangesCache => {
  const counts = { hits: 0, misses: 0, logReads: 0 };
  const lru = new ByteLru<Evictable>(options.maxBytes, (bytes, evictions) => options.observer?.size?.(bytes, evictions));
  const unwatch = new Map<string, () => void>();
  const ranges = new EventRanges(lru, {
    added: (workspaceId) => {
      if (options.watch !== undefined) unwatch.set(workspaceId, options.watch(workspaceId, (cursor) => moved(workspaceId, cursor)));
    },
    removed: (workspaceId) => {
      unwatch.get(workspaceId)?.();
      unwatch.delete(workspaceId);
    },
  });
  const pages = new EncodedPages(lru);
  const flights = new SingleFlight<Fill>();

  const readLog = async (workspaceId: string, after: number, count: number): Promise<Fill> => {
    counts.logReads++;
    options.observer?.logRead?.();
    const events = await options.log.read(workspaceId, after, count);
    const encoded = events.map((e, i) => {
      // Cannot happen (a stream's versions are contiguous and commit in order); never serve it if it does.
      if (e.version !== after + 1 + i) throw new Error(`the log answered version ${e.version} where ${after + 1 + i} was due (${workspaceId})`);
      return encodeLogEvent(e);
    });
    ranges.insert(workspaceId, after + 1, encoded);
    return { encoded, requested: count };
  };

  /** The events from version `from` on: read from the log, or taken from a read in the air that covers `from`. */
  const fill = async (workspaceId: string, from: number, count: number, startedAfter?: number) => {
    const flown = await flights.run(workspaceId, from, count, () => readLog(workspaceId, from - 1, count), startedAfter);
    const { encoded, requested } = flown.value;
    return {
      encoded: encoded.slice(from - flown.from),
      // The log ended where this read stopped short: its head when the read ran.
      endedAt: encoded.length < requested ? flown.from + encoded.length - 1 : null,
      started: flown.started,
    };
  };

  const moved = (workspaceId: string, cursor: number): void => {
    const before = ranges.heard(workspaceId, cursor);
    if (before === undefined || cursor <= before || !ranges.holds(workspaceId, before)) return;
    // Devices told of the new cursor will ask for what follows the old one: read it once, now.
    fill(workspaceId, before + 1, Math.min(cursor - before, MAX_PREFETCH)).catch((err: unknown) => options.logger.warn({ err, workspaceId }, 'changes prefetch failed'));
  };

  const tally = (missed: boolean): void => {
    if (missed) {
      counts.misses++;
      options.observer?.miss?.();
    } else {
      counts.hits++;
      options.observer?.hit?.();
    }
  };

  const answer = (workspaceId: string, cursor: number, events: readonly string[], hasMore: boolean, missed: boolean): Page => {
    tally(missed);
    return pages.pageOf(workspaceId, cursor, events, hasMore);
  };

  const changes = async (workspaceId: string, cursor: number, limit: number): Promise<Page> => {
    const full = pages.get(workspaceId, cursor, cursor + limit, true);
    if (full !== undefined) {
      tally(false);
      return full;
    }
    // One more than asked tells whether more remain.
    const want = limit + 1;
    const arrived = flights.mark();
    const events: string[] = [];
    let missed = false;
    let needFresh = false;
    for (let round = 0; ; round++) {
      const held = ranges.contiguous(workspaceId, cursor + 1 + events.length, want - events.length);
      for (const e of held) events.push(e);
      if (events.length >= want) return answer(workspaceId, cursor, events.slice(0, limit), true, missed);
      missed = true;
      const from = cursor + 1 + events.length;
      const asked = want - events.length;
      if (round >= MAX_SHARED_ROUNDS) {
        const alone = await readLog(workspaceId, from - 1, asked);
        for (const e of alone.encoded) events.push(e);
        return answer(workspaceId, cursor, events.slice(0, limit), events.length > limit, true);
      }
      const got = await fill(workspaceId, from, asked, needFresh ? arrived : undefined);
      for (const e of got.encoded) events.push(e);
      if (events.length >= want) return answer(workspaceId, cursor, events.slice(0, limit), true, true);
      if (got.endedAt !== null) {
        // The log ended there. That is the head for this request only if the read began after it arrived.
        if (got.started > arrived) return answer(workspaceId, cursor, events, false, true);
        needFresh = true;
      }
    }
  };

  return {
    changes,
    committed: (workspaceId, events) => {
      const first = events[0];
      if (first === undefined) return;
      // One commit's events are contiguous; should they ever not be, only the run up to the hole is kept.
      const run: string[] = [];
      for (const e of events) {
        if (e.version !== first.version + run.length) break;
        run.push(encodeCommittedEvent(e));
      }
      ranges.insert(workspaceId, first.version, run);
    },
    stats: () => ({ ...counts, bytes: lru.bytes, evictions: lru.evictions }),
    close: () => {
      for (const stop of unwatch.values()) stop();
      unwatch.clear();
      lru.clear();
    },
  };
};
