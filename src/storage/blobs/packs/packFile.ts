import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ChunkHash } from '../../../domain/ids.js';
import { RECORD_HEADER_BYTES, recordHeader } from '../../../protocol/chunkRecords.js';
import { fsyncDir, hasCode } from '../durableFs.js';
import type { PackEntry, PackedLocation } from './packIndex.js';
import { PACK_MAGIC } from './packMagic.js';


export const newPackId = (now: Date): string => `${now.getTime().toString(36).padStart(9, '0')}-${crypto.randomBytes(8).toString('hex')}`;

export const packPath = (packsDir: string, packId: string): string => path.join(packsDir, `${packId}.pack`);

/** The pack ids of the files in packsDir (anything else there is left alone). */
export const packIdsIn = async (packsDir: string): Promise<string[]> =>
  (await fs.readdir(packsDir)).filter((name) => name.endsWith('.pack')).map((name) => name.slice(0, -'.pack'.length));

/**
 * Writes chunks as a new pack (PACK_MAGIC, then their records) and makes it durable: written under
 * tmp/, one fsync of the file, renamed into packs/, one fsync of packs/, however many chunks; never
 * changed after. Answers where each chunk's bytes start.
 */
export const writePack = async (
  dirs: { tmp: string; packs: string },
  packId: string,
  chunks: readonly { hash: ChunkHash; bytes: Uint8Array }[],
): Promise<{ bytes: number; entries: PackEntry[] }> => {
  const pieces: Uint8Array[] = [PACK_MAGIC];
  const entries: PackEntry[] = [];
  let offset = PACK_MAGIC.length;
  for (const { hash, bytes } of chunks) {
    pieces.push(recordHeader(hash, bytes.length), bytes);
    entries.push({ hash, packId, offset: offset + RECORD_HEADER_BYTES, size: bytes.length });
    offset += RECORD_HEADER_BYTES + bytes.length;
  }
  const temp = path.join(dirs.tmp, `${packId}.pack`);
  const file = await fs.open(temp, 'wx', 0o444);
  try {
    // writev takes at most IOV_MAX (1024) pieces a call on Linux; Node splits nothing itself.
    for (let i = 0; i < pieces.length; i += 1000) {
      const slice = pieces.slice(i, i + 1000);
      const length = slice.reduce((s, p) => s + p.byteLength, 0);
      let written = (await file.writev(slice)).bytesWritten;
      // A short writev (rare on a local disk) finishes with plain writes of what is left.
      if (written < length) {
        const rest = Buffer.concat(slice).subarray(written);
        for (let at = 0; at < rest.length; at += written) written = (await file.write(rest, at)).bytesWritten;
      }
    }
    await file.sync();
  } catch (error) {
    await file.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await fs.rename(temp, packPath(dirs.packs, packId));
    await fsyncDir(dirs.packs);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  return { bytes: offset, entries };
};

/** Reads spans of one pack no further apart than this as one read. */
const MERGE_GAP_BYTES = 64 * 1024;

/**
 * The bytes of these located chunks (all in packId), each a view into as few reads as the layout
 * allows: chunks sent together lie together. Null when the pack file is gone (compacted since the
 * locations were looked up: look them up again).
 */
export const readPacked = async (packsDir: string, packId: string, located: readonly (PackedLocation & { hash: ChunkHash })[]): Promise<Map<ChunkHash, Uint8Array> | null> => {
  let file: fs.FileHandle;
  try {
    file = await fs.open(packPath(packsDir, packId), 'r');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return null;
    throw error;
  }
  const out = new Map<ChunkHash, Uint8Array>();
  try {
    const sorted = [...located].sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < sorted.length; ) {
      const first = sorted[i] as (typeof sorted)[number];
      let j = i + 1;
      let end = first.offset + first.size;
      for (; j < sorted.length; j++) {
        const next = sorted[j] as (typeof sorted)[number];
        if (next.offset - end > MERGE_GAP_BYTES) break;
        end = Math.max(end, next.offset + next.size);
      }
      const span = Buffer.allocUnsafe(end - first.offset);
      for (let got = 0; got < span.length; ) {
        const { bytesRead } = await file.read(span, got, span.length - got, first.offset + got);
        if (bytesRead === 0) throw new Error(`pack ${packId} ends before byte ${first.offset + got}: the index points past it`);
        got += bytesRead;
      }
      for (const c of sorted.slice(i, j)) out.set(c.hash, span.subarray(c.offset - first.offset, c.offset - first.offset + c.size));
      i = j;
    }
  } finally {
    await file.close();
  }
  return out;
};
