import type { FileChunk } from '../chunking/hashChunks.js';

/** Where a chunk's bytes can be read locally: a synced file, at an offset. */
export interface ChunkLocation {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * chunk hash -> the synced files holding it. A download copies these bytes from the local file
 * (after checking their SHA-256) instead of fetching them; a file changed since is caught there.
 */
export class ChunkIndex {
  private readonly byHash = new Map<string, Map<string, number>>();
  private readonly sizes = new Map<string, number>();

  add(path: string, chunks: readonly FileChunk[]): void {
    for (const c of chunks) {
      let places = this.byHash.get(c.hash);
      if (places === undefined) this.byHash.set(c.hash, (places = new Map()));
      places.set(path, c.offset);
      this.sizes.set(c.hash, c.size);
    }
  }

  remove(path: string, chunks: readonly FileChunk[]): void {
    for (const c of chunks) {
      const places = this.byHash.get(c.hash);
      if (places === undefined) continue;
      places.delete(path);
      if (places.size === 0) {
        this.byHash.delete(c.hash);
        this.sizes.delete(c.hash);
      }
    }
  }

  /** Every local place holding hash (first the most recently added). */
  locate(hash: string): ChunkLocation[] {
    const places = this.byHash.get(hash);
    const size = this.sizes.get(hash);
    if (places === undefined || size === undefined) return [];
    return [...places].reverse().map(([path, offset]) => ({ path, offset, size }));
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }
}
