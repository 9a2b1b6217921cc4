import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { ApiError } from './errors.js';

// Members of unions and intersections are numbered in io-ts contexts; they are not part of the path.
const isComposite = (type: t.Decoder<unknown, unknown>): boolean => {
  const tag = (type as unknown as { _tag?: string })._tag;
  return tag === 'UnionType' || tag === 'IntersectionType';
};

const pathOf = (error: t.ValidationError): string => {
  const parts: string[] = [];
  error.context.forEach((entry, i) => {
    if (i === 0) return;
    const parent = error.context[i - 1];
    if (parent !== undefined && isComposite(parent.type)) return;
    parts.push(/^\d+$/.test(entry.key) ? `[${entry.key}]` : parts.length === 0 ? entry.key : `.${entry.key}`);
  });
  return parts.join('');
};

/** Decodes untrusted input; failure is a 400 invalid_request naming the first bad field and what it should be. */
export const decodeOr400 = <A>(codec: t.Decoder<unknown, A>, input: unknown, where: 'body' | 'query' | 'params'): A => {
  const result = codec.decode(input);
  if (E.isRight(result)) return result.right;
  const errors = result.left;
  const first = errors.reduce((a, b) => (pathOf(b).length > pathOf(a).length ? b : a));
  const field = pathOf(first);
  const expected = first.context[first.context.length - 1]?.type.name ?? 'a valid value';
  const shown = field === '' ? where : `${where}.${field}`;
  throw new ApiError('invalid_request', first.message ?? `${shown} is invalid: expected ${expected}`, {
    field: shown,
    expected,
    problems: [...new Set(errors.map((e) => `${where}${pathOf(e) === '' ? '' : `.${pathOf(e)}`}: expected ${e.context[e.context.length - 1]?.type.name}`))].slice(0, 10),
  });
};
