import type * as t from 'io-ts';
import { ApiError } from './errors.js';

/** An opaque id from a caller as one of ours; one that is not of our format names nothing: not_found. */
export const knownId = <A>(codec: t.Decoder<unknown, A> & { is: (u: unknown) => u is A }, value: string, what = 'No such file or folder.'): A => {
  if (codec.is(value)) return value;
  throw new ApiError('not_found', what);
};
