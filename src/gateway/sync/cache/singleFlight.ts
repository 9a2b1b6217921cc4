/** What a caller of SingleFlight.run gets: the value, and when the work that produced it started. */
export interface Flown<V> {
  readonly value: V;
  /** The flight's start on the SingleFlight's clock: compare with mark() taken earlier. */
  readonly started: number;
  /** True when this caller joined work another caller had started. */
  readonly joined: boolean;
}

/**
 * Concurrent calls for one key share one piece of work. A caller that needs an answer no older
 * than some moment passes the mark() it took then: it joins only work started after that mark,
 * and otherwise starts a fresh flight (that later callers join in turn). That is what lets a
 * "what is after cursor c?" read be shared and still be as fresh as if each device had asked alone.
 */
export class SingleFlight<V> {
  private clock = 0;
  private readonly flights = new Map<string, { promise: Promise<V>; started: number }>();

  /** The current moment: work started from now on has started > mark. */
  mark(): number {
    return this.clock;
  }

  /** How many flights are in the air. */
  get inFlight(): number {
    return this.flights.size;
  }

  run(key: string, work: () => Promise<V>, startedAfter?: number): Promise<Flown<V>> {
    const current = this.flights.get(key);
    if (current !== undefined && (startedAfter === undefined || current.started > startedAfter))
      return current.promise.then((value) => ({ value, started: current.started, joined: true }));
    const started = ++this.clock;
    const promise = Promise.resolve().then(work);
    const flight = { promise, started };
    this.flights.set(key, flight);
    const land = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    promise.then(land, land);
    return promise.then((value) => ({ value, started, joined: false }));
  }
}
