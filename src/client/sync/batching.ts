import { ServerRefusal } from '../api/errors.js';
import type { SyncContext } from './context.js';

/**
 * Which files go through the batch calls of docs/api-extensions.md. A file of a few KiB costs
 * three requests and a server transaction of its own one at a time; thousands of them (an initial
 * sync, a copied folder) go many to a request instead. Large files stay on the per-file calls,
 * where their chunks stream in parallel.
 */
export const BATCH_FILE_BYTES = 4 * 1024 * 1024;

/** Whether a file of this many bytes goes through the batch calls (when the server has them). */
export const batchable = (ctx: Pick<SyncContext, 'batchCalls'>, bytes: number): boolean => ctx.batchCalls && bytes <= BATCH_FILE_BYTES;

/**
 * A server from before the batch calls answers them from its not-found handler: `details.reason`
 * "no_route" on servers that say so, the message on the older ones that do not.
 */
export const isMissingRoute = (e: unknown): boolean =>
  e instanceof ServerRefusal && e.status === 404 && (e.details.reason === 'no_route' || e.message.startsWith('No route '));

/** Remembers that the server has no batch calls: everything from now on goes one file at a time. */
export const withoutBatchCalls = (ctx: SyncContext): void => {
  if (ctx.batchCalls) ctx.reporter.info('the server has no batch calls: small files are sent one at a time');
  ctx.batchCalls = false;
};

/** Items in order, cut into groups of at most maxItems and (unless one item alone is more) maxBytes. */
export const groupsOf = <T>(items: readonly T[], bytesOf: (item: T) => number, maxItems: number, maxBytes: number): T[][] => {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (group.length > 0 && (group.length >= maxItems || bytes + size > maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
};

export const partition = <T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] => {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
};
