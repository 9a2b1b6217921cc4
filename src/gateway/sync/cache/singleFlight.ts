/** What a caller of SingleFlight.run gets: the value, the range the shared work covered, and when it started. */
export interface Flown<V> {
  readonly value: V;
  /** The range the work was started for: [from, from + count). */
  readonly from: number;
  readonly count: number;
  /** The flight's start on the SingleFlight's clock: compare with mark() taken earlier. */
  readonly started: number;
  /** True when this caller joined work another caller had started. */
  readonly joined: boolean;
}

interface Flight<V> {
  readonly from: number;
  readonly count: number;
  readonly started: number;
  readonly promise: Promise<V>;
}

/**
 * Concurrent reads of overlapping ranges share one read. A caller asking for [from, from + count)
 * of a group (a workspace) joins a read in the air whose range holds `from`, and otherwise starts
 * one. A caller that needs an answer no older than some moment passes the mark() it took then: it
 * joins only reads started after that mark, else starts a fresh one (that later callers join in
 * turn). That is what lets "what is after cursor c?" be shared by many devices and still be as
 * fresh as if each had asked alone.
 */
export class SingleFlight<V> {
  private clock = 0;
  private readonly groups = new Map<string, Set<Flight<V>>>();

  /** The current moment: work started from now on has started > mark. */
  mark(): number {
    return this.clock;
  }

  /** How many reads are in the air. */
  get inFlight(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.size;
    return n;
  }

  run(group: string, from: number, count: number, work: () => Promise<V>, startedAfter?: number): Promise<Flown<V>> {
    const flights = this.groups.get(group);
    // The freshest read that covers `from` (and is fresh enough when that matters).
    let best: Flight<V> | undefined;
    for (const f of flights ?? []) {
      if (f.from <= from && from < f.from + f.count && f.started > (startedAfter ?? 0) && (best === undefined || f.started > best.started)) best = f;
    }
    if (best !== undefined) {
      const f = best;
      return f.promise.then((value) => ({ value, from: f.from, count: f.count, started: f.started, joined: true }));
    }
    const started = ++this.clock;
    const flight: Flight<V> = { from, count, started, promise: Promise.resolve().then(work) };
    const set = flights ?? new Set<Flight<V>>();
    set.add(flight);
    this.groups.set(group, set);
    const land = () => {
      set.delete(flight);
      if (set.size === 0 && this.groups.get(group) === set) this.groups.delete(group);
    };
    flight.promise.then(land, land);
    return flight.promise.then((value) => ({ value, from, count, started, joined: false }));
  }
}
