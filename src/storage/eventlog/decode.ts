import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { EventDecodeError } from './errors.js';

/** Turns data stored at an older schema version into the next version's shape. */
export type Upcaster = (data: unknown) => unknown;

export interface EventSchema<E> {
  readonly codec: t.Decoder<unknown, E>;
  readonly currentVersion: (type: string) => number | undefined;
  /** upcasters[type][v] lifts data from schema version v to v + 1. */
  readonly upcasters: Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;
}

/** Decodes a stored event at any known schema version into the current shape, or throws EventDecodeError. */
export const decodeStored = <E>(
  schema: EventSchema<E>,
  where: { streamId: string; version: number },
  type: string,
  schemaVersion: number,
  data: unknown,
): E => {
  const current = schema.currentVersion(type);
  if (current === undefined) throw new EventDecodeError(where.streamId, where.version, `unknown event type ${type}`);
  if (schemaVersion > current)
    throw new EventDecodeError(where.streamId, where.version, `${type} v${schemaVersion} is newer than this build (v${current})`);
  let lifted = data;
  for (let v = schemaVersion; v < current; v++) {
    const up = schema.upcasters[type]?.[v];
    if (up === undefined) throw new EventDecodeError(where.streamId, where.version, `no upcaster for ${type} v${v}`);
    lifted = up(lifted);
  }
  const decoded = schema.codec.decode({ type, data: lifted });
  if (E.isLeft(decoded)) throw new EventDecodeError(where.streamId, where.version, PathReporter.report(decoded).join('; '));
  return decoded.right;
};
