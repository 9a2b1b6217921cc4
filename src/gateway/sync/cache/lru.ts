/** Something held by a ByteLru; told when the LRU lets go of it (evicted or replaced under its key). */
export interface Evictable {
  dropped(): void;
}

interface Slot<V> {
  value: V;
  bytes: number;
}

/**
 * Least recently used entries under one byte budget. A Map keeps insertion order, so re-inserting
 * on every touch makes its first key the least recently used one: O(1) per operation.
 */
export class ByteLru<V extends Evictable> {
  private readonly slots = new Map<string, Slot<V>>();
  private total = 0;
  private evicted = 0;

  constructor(
    readonly maxBytes: number,
    private readonly onChange: (bytes: number, evictions: number) => void = () => undefined,
  ) {}

  /** The value under key, marked as just used. */
  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** Holds value under key at a size of bytes (the same value again: only its size and recency change). */
  set(key: string, value: V, bytes: number): void {
    const old = this.slots.get(key);
    if (old !== undefined) {
      this.slots.delete(key);
      this.total -= old.bytes;
      if (old.value !== value) old.value.dropped();
    }
    this.slots.set(key, { value, bytes });
    this.total += bytes;
    this.trim();
  }

  /** New size of an entry that grew or shrank in place; nothing when key no longer holds value. */
  resize(key: string, value: V, bytes: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined || slot.value !== value) return;
    this.total += bytes - slot.bytes;
    slot.bytes = bytes;
    this.trim();
  }

  get bytes(): number {
    return this.total;
  }

  get evictions(): number {
    return this.evicted;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Lets go of everything (not counted as evictions). */
  clear(): void {
    const values = [...this.slots.values()];
    this.slots.clear();
    this.total = 0;
    for (const slot of values) slot.value.dropped();
    this.onChange(this.total, 0);
  }

  private trim(): void {
    let evictions = 0;
    while (this.total > this.maxBytes) {
      const oldest = this.slots.entries().next();
      if (oldest.done === true) break;
      const [key, slot] = oldest.value;
      this.slots.delete(key);
      this.total -= slot.bytes;
      evictions++;
      slot.value.dropped();
    }
    this.evicted += evictions;
    this.onChange(this.total, evictions);
  }
}
