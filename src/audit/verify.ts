import { GENESIS_HASH, canonicalEvent, chainHash } from '../storage/eventlog/hashChain.js';
import { workspaceStreamId } from '../storage/eventlog/workspaceSchema.js';
import type { AuditSource, ChainHead } from './source.js';

/** The first thing found wrong in a stored history, at the event where it shows. */
export type ChainProblem =
  /** The event's stored content (type, data, metadata, ids, position) or its recorded hash was changed, or it was moved here. */
  | { readonly kind: 'altered'; readonly version: number; readonly type: string; readonly storedHash: string; readonly computedHash: string }
  /** Versions jump: the events from `version` to `nextStored - 1` were deleted. */
  | { readonly kind: 'missing'; readonly version: number; readonly nextStored: number }
  /** The last events were deleted (the stream says it holds more), or events were added past the head. */
  | { readonly kind: 'truncated'; readonly version: number; readonly streamVersion: number }
  /** The events chain correctly but not to the stream's recorded head. */
  | { readonly kind: 'head'; readonly version: number; readonly headHash: string; readonly computedHash: string }
  /** Internally consistent, but the hash at a version differs from one recorded earlier: history was rewritten and re-hashed. */
  | { readonly kind: 'pinned'; readonly version: number; readonly pinnedHash: string; readonly computedHash: string }
  | { readonly kind: 'absent' };

export interface Pin {
  readonly version: number;
  readonly hash: string;
}

export interface VerifyReport {
  readonly workspaceId: string;
  readonly ok: boolean;
  /** Events checked. */
  readonly events: number;
  readonly head: ChainHead | null;
  readonly problem: ChainProblem | null;
}

/**
 * Recomputes a workspace's hash chain from the stored events, a page at a time, and reports the first
 * event where stored history does not match it. Pins (version, hash) recorded earlier, e.g. from
 * GET /audit/head, also catch a history rewritten together with all its hashes.
 */
export const verifyChain = async (source: AuditSource, workspaceId: string, options: { pageSize?: number; pins?: readonly Pin[] } = {}): Promise<VerifyReport> => {
  const pageSize = options.pageSize ?? 1000;
  const pins = new Map((options.pins ?? []).map((p) => [p.version, p.hash.toLowerCase()]));
  const streamId = workspaceStreamId(workspaceId);
  const head = await source.head(workspaceId);
  const report = (problem: ChainProblem | null, events: number): VerifyReport => ({ workspaceId, ok: problem === null, events, head, problem });
  if (head === null) return report({ kind: 'absent' }, 0);
  let previous = GENESIS_HASH;
  let expected = 1;
  // Up to the head read first: events appended meanwhile are after it and not this check's business.
  while (expected <= head.cursor) {
    const page = await source.chained(workspaceId, expected - 1, Math.min(pageSize, head.cursor - expected + 1));
    for (const e of page) {
      if (e.version !== expected) return report({ kind: 'missing', version: expected, nextStored: e.version }, expected - 1);
      // The stream id is not stored per event as a separate fact to trust: the workspace asked about is the one hashed.
      const computed = chainHash(previous, canonicalEvent({ ...e, streamId })).toString('hex');
      if (computed !== e.hash.toLowerCase())
        return report({ kind: 'altered', version: e.version, type: e.type, storedHash: e.hash, computedHash: computed }, expected - 1);
      const pinned = pins.get(e.version);
      if (pinned !== undefined && pinned !== computed) return report({ kind: 'pinned', version: e.version, pinnedHash: pinned, computedHash: computed }, expected);
      previous = Buffer.from(computed, 'hex');
      expected++;
    }
    if (page.length === 0) break;
  }
  const last = expected - 1;
  if (head.cursor !== last) return report({ kind: 'truncated', version: last, streamVersion: head.cursor }, last);
  const tip = last === 0 ? GENESIS_HASH.toString('hex') : previous.toString('hex');
  if (head.headHash.toLowerCase() !== tip) return report({ kind: 'head', version: last, headHash: head.headHash, computedHash: tip }, last);
  for (const [version, hash] of pins)
    if (version > last) return report({ kind: 'pinned', version, pinnedHash: hash, computedHash: '(no such event any more)' }, last);
  return report(null, last);
};

/** One line for people: what is wrong and where. */
export const describeProblem = (p: ChainProblem): string => {
  switch (p.kind) {
    case 'altered':
      return `event ${p.version} (${p.type}) was altered: its stored content no longer hashes to its recorded hash (or it was moved to this position)`;
    case 'missing':
      return `event ${p.version} is missing: the stored events jump from ${p.version - 1} to ${p.nextStored} (deleted)`;
    case 'truncated':
      return p.streamVersion > p.version
        ? `events ${p.version + 1} to ${p.streamVersion} are missing: the stream holds ${p.streamVersion} events, ${p.version} are stored (deleted at the end)`
        : `the stream's head says ${p.streamVersion} events, but ${p.version} are stored`;
    case 'head':
      return `the stream's recorded head hash does not match its last event ${p.version}: the history or the head was rewritten`;
    case 'pinned':
      return `event ${p.version} hashes to ${p.computedHash}, but ${p.pinnedHash} was recorded for it earlier: the history was rewritten and re-hashed`;
    case 'absent':
      return 'there is no such workspace stream (a wrong id or token, or its whole history was deleted)';
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
};
