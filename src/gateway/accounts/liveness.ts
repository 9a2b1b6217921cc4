import type { LiveDevice } from './repository.js';

/**
 * Devices known to be live (signed in, not revoked), remembered for a short while so that
 * authentication need not ask Postgres on every request. It is only as good as the revocations it
 * hears: its owner forgets a device when told of a revocation, and switches it off while it cannot
 * hear them (revocations.ts).
 */
export interface LivenessCache {
  /** The live device, when remembered and fresh. */
  get(deviceId: string): LiveDevice | undefined;
  /** Taken before a database lookup: remember() with a ticket older than the last forget is ignored. */
  ticket(): number;
  remember(ticket: number, deviceId: string, device: LiveDevice): void;
  /** last_seen_at was moved to at. */
  seen(deviceId: string, at: Date): void;
  forget(deviceId: string): void;
  /** While off, nothing is answered nor remembered (turning it off forgets everything). */
  enable(on: boolean): void;
  readonly size: number;
}

export interface LivenessCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries?: number;
  /** Milliseconds on a monotonic clock (performance.now by default; not the API's injected clock). */
  readonly clock?: () => number;
}

export const DEFAULT_LIVENESS_TTL_MS = 30_000;

export const createLivenessCache = (options: LivenessCacheOptions): LivenessCache => {
  const clock = options.clock ?? (() => performance.now());
  const maxEntries = options.maxEntries ?? 200_000;
  const entries = new Map<string, { device: LiveDevice; expiresAt: number }>();
  // Bumped by every forget: a lookup that began before a revocation was heard must not be remembered.
  let generation = 0;
  let enabled = true;
  return {
    get: (deviceId) => {
      if (!enabled) return undefined;
      const entry = entries.get(deviceId);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= clock()) {
        entries.delete(deviceId);
        return undefined;
      }
      return entry.device;
    },
    ticket: () => generation,
    remember: (ticket, deviceId, device) => {
      if (!enabled || ticket !== generation) return;
      entries.delete(deviceId);
      entries.set(deviceId, { device, expiresAt: clock() + options.ttlMs });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    seen: (deviceId, at) => {
      const entry = entries.get(deviceId);
      if (entry !== undefined) entry.device = { ...entry.device, lastSeenAt: at };
    },
    forget: (deviceId) => {
      generation++;
      entries.delete(deviceId);
    },
    enable: (on) => {
      if (!on) {
        generation++;
        entries.clear();
      }
      enabled = on;
    },
    get size() {
      return entries.size;
    },
  };
};
