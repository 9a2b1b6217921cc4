/**
 * The first bytes of a pack file; records follow it as the chunk batch calls frame them (SHA-256,
 * 4-byte big-endian length, bytes), so a pack describes itself and its index could be rebuilt from it.
 */
export const PACK_MAGIC = Buffer.from('STRPACK1', 'latin1');
