import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { EventDecodeError } from './errors.js';

/** Turns data stored at an older schema version into the next version's shape. */
export type Upcaster = (data: unknown) => unknown;

export interface EventSchema<E> {
  /** Built only of io-ts's identity combinators (see decodeFast). */
  readonly codec: t.Type<E, unknown, unknown>;
  readonly currentVersion: (type: string) => number | undefined;
  /** upcasters[type][v] lifts data from schema version v to v + 1. */
  readonly upcasters: Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;
}

/**
 * `codec.decode(u)`, guard first. For a codec built only of io-ts's identity combinators (type,
 * partial, union, intersection, literal, brand, array, primitives), `is(u)` gives decode's verdict
 * and decode's result is `u` itself; the guard gets there without the context per property and the
 * Either per value that decode allocates, which was half of the CPU of reading the log (a rebuild
 * reads every event). A value the guard refuses goes through decode for its error report.
 * The event and metadata codecs are held to those combinators by test/storage/eventlog/decode.unit.test.ts.
 */
export const decodeFast = <A>(codec: t.Type<A, unknown, unknown>, u: unknown): t.Validation<A> =>
  codec.is(u) ? E.right(u) : codec.decode(u);

/** decodeFast, or the error report the codec gives. */
export const decodeOrReport = <A>(codec: t.Type<A, unknown, unknown>, u: unknown): E.Either<string, A> => {
  if (codec.is(u)) return E.right(u);
  const decoded = codec.decode(u);
  return E.isRight(decoded) ? decoded : E.left(PathReporter.report(decoded).join('; '));
};

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
  const decoded = decodeOrReport(schema.codec, { type, data: lifted });
  if (E.isLeft(decoded)) throw new EventDecodeError(where.streamId, where.version, decoded.left);
  return decoded.right;
};
