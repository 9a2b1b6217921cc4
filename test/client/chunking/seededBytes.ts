/** `size` pseudo-random bytes from a 32-bit xorshift seeded with `seed`: the same bytes on every machine. */
export const seededBytes = (size: number, seed: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  let x = seed | 0 || 1; // xorshift is stuck at 0
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // Byte by byte rather than through a Uint32Array view: no dependence on the platform's endianness.
    bytes[i] = x;
    bytes[i + 1] = x >>> 8;
    bytes[i + 2] = x >>> 16;
    bytes[i + 3] = x >>> 24;
  }
  return bytes;
};

/** The same bytes cut into reads of the given sizes, cycling through them. */
export async function* readsOf(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length] as number;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** Sizes of the chunks that end at these cut points. */
export const sizesOf = (cuts: readonly number[]): number[] => cuts.map((cut, k) => cut - (k === 0 ? 0 : (cuts[k - 1] as number)));
