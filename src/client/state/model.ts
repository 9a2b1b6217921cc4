import type { FileChunk } from '../chunking/hashChunks.js';

/** What a scan sees of a file: enough to tell that it changed or moved without reading it. */
export interface LocalStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export interface RemoteVersion {
  readonly versionId: string;
  readonly contentHash: string;
  readonly size: number;
  readonly chunks: readonly { readonly hash: string; readonly size: number }[];
}

/** The server's tree as this device last pulled it: one node per id, trashed ones kept for undelete. */
export interface RemoteNode {
  readonly nodeId: string;
  readonly kind: 'file' | 'folder';
  readonly parentId: string | null;
  readonly name: string;
  /** The node whose delete put this one in the trash, or null while it is live. */
  readonly trashedBy: string | null;
  readonly version: RemoteVersion | null;
}

/**
 * The merge base of one local path: the node it was last in sync with, and (files) the version and
 * the local file's stat at that moment. A file whose stat differs was changed here since.
 */
export type SyncedEntry =
  | { readonly kind: 'folder'; readonly nodeId: string; readonly ino: number }
  | {
      readonly kind: 'file';
      readonly nodeId: string;
      readonly versionId: string;
      readonly contentHash: string;
      readonly chunks: readonly FileChunk[];
      readonly stat: LocalStat;
      /**
       * The chunks were cut on this device (FastCDC, DEFAULT_CHUNKING), not taken from the
       * server's version (another client may cut differently): the next describe of the file may
       * reuse their boundaries (describeReusing).
       */
      readonly localCuts?: true;
    };

export type SyncedFile = Extract<SyncedEntry, { kind: 'file' }>;

/**
 * A commit written down before it is sent, with its idempotency key: after a crash it is sent
 * again with the same key, so the server appends it at most once.
 */
export interface PendingCommit {
  readonly key: string;
  readonly path: string;
  readonly parentId: string;
  readonly name: string;
  readonly fileId: string | null;
  readonly baseVersionId: string | null;
  readonly contentHash: string;
  readonly chunks: readonly FileChunk[];
  readonly stat: LocalStat;
}

/** Something the person should know about: a conflicted copy made, a name that could not be kept. */
export interface Report {
  readonly at: string;
  readonly kind: 'conflict' | 'name_collision' | 'unsyncable' | 'held_deletes' | 'edit_kept';
  readonly path: string;
  readonly message: string;
}

/** One change to the state, as written to the journal. */
export type Mutation =
  | { readonly t: 'remote'; readonly id: string; readonly v: RemoteNode | null }
  | { readonly t: 'synced'; readonly p: string; readonly v: SyncedEntry | null }
  | { readonly t: 'cursor'; readonly v: number }
  | { readonly t: 'pending'; readonly k: string; readonly v: PendingCommit | null }
  | { readonly t: 'report'; readonly v: Report }
  | { readonly t: 'kept'; readonly p: string; readonly v: boolean };

/** The whole state at one moment, as the snapshot file holds it. */
export interface Snapshot {
  readonly version: 1;
  readonly generation: number;
  readonly cursor: number;
  readonly remote: readonly RemoteNode[];
  readonly synced: readonly (readonly [string, SyncedEntry])[];
  readonly pending: readonly PendingCommit[];
  readonly reports: readonly Report[];
  readonly kept: readonly string[];
}
