import type { FileChunk, FileDescription } from './hashChunks.js';

/** What the main thread asks the describe worker: a file's description, given its previous chunks. */
export interface DescribeRequest {
  readonly id: number;
  readonly file: string;
  readonly sizeHint: number;
  readonly previous: readonly FileChunk[];
  /** Whether to send back the bytes of the chunks that are not among the previous ones (for uploadAhead). */
  readonly newChunks: boolean;
}

/** What it answers: the new chunks as it finds them (if asked), then the description or the failure. */
export type DescribeAnswer =
  | { readonly kind: 'chunk'; readonly id: number; readonly chunk: FileChunk; readonly bytes: Uint8Array }
  | { readonly kind: 'described'; readonly id: number; readonly description: FileDescription }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };
