import path from 'node:path';
import type { Api } from '../api/v1.js';
import type { Describer } from '../chunking/describer.js';
import type { FileChunk } from '../chunking/hashChunks.js';
import type { IgnoreRules } from '../local/ignore.js';
import type { ClientConfig, Layout } from '../state/layout.js';
import type { LocalStat } from '../state/model.js';
import type { ClientState } from '../state/store.js';

/** Bytes and files moved so far in one transfer (an upload or download phase). */
export interface TransferProgress {
  advance(bytes: number, files?: number): void;
  done(): void;
}

/** How the engine talks to the person running it: the CLI prints, tests collect. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  transfer(kind: 'upload' | 'download', totalBytes: number, totalFiles: number): TransferProgress;
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  transfer: () => ({ advance: () => undefined, done: () => undefined }),
};

export interface SyncOptions {
  /** Let a scan delete more than half of a folder's files (over 100), or empty the folder. */
  readonly confirmDeletes: boolean;
  /** A file is uploaded once its size and mtime have not changed for this long. */
  readonly stableMs: number;
  /** Full rescan interval while watching (catches what the watcher missed). */
  readonly rescanMs: number;
  /** Files uploaded or downloaded at once. */
  readonly fileConcurrency: number;
  /** Chunk PUTs and GETs in flight at once, across files. */
  readonly chunkConcurrency: number;
  /**
   * Commits in flight at once. The server orders one workspace's commits one at a time, so more
   * only queue there; a few keep that queue from ever running dry while other files upload.
   */
  readonly commitConcurrency: number;
  /** Upper bound of the retry backoff when the server is unreachable. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  confirmDeletes: false,
  stableMs: 1000,
  rescanMs: 60_000,
  fileConcurrency: 24,
  chunkConcurrency: 8,
  commitConcurrency: 6,
  maxBackoffMs: 60_000,
};

/** Everything one sync of one folder works with. */
export interface SyncContext {
  readonly layout: Layout;
  readonly config: ClientConfig;
  readonly api: Api;
  readonly state: ClientState;
  readonly reporter: Reporter;
  readonly options: SyncOptions;
  readonly stop: AbortSignal;
  rules: IgnoreRules;
  /** Chunk transfers in flight, shared by uploads and downloads. */
  readonly chunkSlot: <T>(task: () => Promise<T>) => Promise<T>;
  readonly commitSlot: <T>(task: () => Promise<T>) => Promise<T>;
  /** Folders where files were renamed into place since the last journal flush: fsynced before it. */
  readonly dirtyDirs: Set<string>;
  /**
   * Descriptors of large files replaced by a rename since the last checkpoint, closed after it:
   * their blocks are freed then, in the thread pool, rather than in the rename or under the fsyncs
   * that make it durable.
   */
  readonly replaced: number[];
  /** Files described (chunked and hashed) lately, by path: not read again while their stat holds. */
  readonly described: Map<string, { readonly stat: LocalStat; readonly chunks: readonly FileChunk[] }>;
  /** Describes under way, by path: a second ask for the same stat waits for the first. */
  readonly describing: Map<string, { readonly stat: LocalStat; readonly done: Promise<readonly FileChunk[] | null> }>;
  /** Where large edited files are described (a thread of its own, where there is a core for it). */
  readonly describer: Describer;
  /** Chunks sent ahead of their commit (transfer/uploadAhead.ts): whether the server took each. */
  readonly uploaded: Map<string, Promise<boolean>>;
  /** How many of those are on their way now. */
  readonly ahead: { inFlight: number };
  /**
   * Whether the server has the batch calls of docs/api-extensions.md (chunks/missing, chunks,
   * chunks/fetch, commit_batch): turned off for good at the first one it does not know.
   */
  batchCalls: boolean;
  /** Renames that make room in the folder run one at a time, so two never pick the same free name. */
  readonly renameSlot: <T>(task: () => Promise<T>) => Promise<T>;
}

export const absPath = (ctx: Pick<SyncContext, 'layout'>, rel: string): string => (rel === '' ? ctx.layout.root : path.join(ctx.layout.root, rel));
