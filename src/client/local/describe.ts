import crypto from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { DEFAULT_CHUNKING, cutPoints } from '../chunking/fastcdc.js';
import { describeFile, describeFileReusing, type FileChunk, type FileDescription, type OnChunk } from '../chunking/hashChunks.js';
import type { ChunkHash, NonNegativeInt } from '../../domain/ids.js';

// Below this a file is read whole and cut in memory: most files of a tree are small, and a stream
// per file (with its 1 MiB read buffer) costs more than the file.
export const IN_MEMORY_BYTES = DEFAULT_CHUNKING.maxSize;

/**
 * The file's chunks (FastCDC, SHA-256), as describeFile gives them, by the cheapest way for its
 * size: a small file in one read (under the minimum chunk size it is one chunk), a large one streamed,
 * or, given the chunks this device cut for its previous version, read and hashed with most of the
 * scanning for cut points skipped (describeFileReusing). onChunk hears each chunk of a streamed file.
 */
export const describeLocalFile = async (file: string, sizeHint: number, previous?: readonly FileChunk[], onChunk?: OnChunk): Promise<FileDescription> => {
  const large = () =>
    previous === undefined || previous.length === 0 ? describeFile(file, DEFAULT_CHUNKING, onChunk) : describeFileReusing(file, previous, DEFAULT_CHUNKING, onChunk);
  if (sizeHint > IN_MEMORY_BYTES) return large();
  const bytes = await fs.readFile(file);
  if (bytes.length > IN_MEMORY_BYTES) return large();
  const chunks: FileChunk[] = [];
  let offset = 0;
  for (const end of bytes.length < DEFAULT_CHUNKING.minSize ? (bytes.length === 0 ? [] : [bytes.length]) : cutPoints(bytes)) {
    const hash = crypto.createHash('sha256').update(bytes.subarray(offset, end)).digest('hex') as ChunkHash;
    chunks.push({ hash, size: (end - offset) as NonNegativeInt, offset: offset as NonNegativeInt });
    offset = end;
  }
  return { size: bytes.length as NonNegativeInt, chunks };
};

/** Below this a file is one chunk (under FastCDC's minimum size): its description is its SHA-256. */
export const ONE_CHUNK_BYTES = DEFAULT_CHUNKING.minSize;

/**
 * describeLocalFile for a file expected under ONE_CHUNK_BYTES, read with one synchronous call: for
 * a file of a few KiB that is a few microseconds, where an asynchronous read is four thread-pool
 * round trips. A file found larger is described the usual way.
 */
export const describeSmallFile = async (file: string): Promise<FileDescription> => {
  const bytes = fsSync.readFileSync(file);
  if (bytes.length >= ONE_CHUNK_BYTES) return describeLocalFile(file, bytes.length);
  if (bytes.length === 0) return { size: 0 as NonNegativeInt, chunks: [] };
  const hash = crypto.createHash('sha256').update(bytes).digest('hex') as ChunkHash;
  return { size: bytes.length as NonNegativeInt, chunks: [{ hash, size: bytes.length as NonNegativeInt, offset: 0 as NonNegativeInt }] };
};
