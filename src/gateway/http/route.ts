import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type * as t from 'io-ts';
import { bearerToken, type AuthContext, type Authenticator } from './auth.js';
import { decodeOr400 } from './decode.js';
import { ApiError } from './errors.js';
import { toJsonSchema } from './jsonSchema.js';

export interface RouteContext<P, Q, B, A> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly auth: A;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

type Codec<A> = t.Decoder<unknown, A> & t.Mixed;

export interface RouteSpec<P, Q, B, Auth extends boolean> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  readonly tags: readonly string[];
  /** true: the bearer token must name a live device; the handler gets its AuthContext. */
  readonly auth: Auth;
  readonly params?: Codec<P>;
  readonly query?: Codec<Q>;
  readonly body?: Codec<B>;
  /** For the OpenAPI document: status -> codec of the answer (null: no body). */
  readonly responses: Readonly<Record<number, t.Mixed | null>>;
  /** Extra fastify route options (body limits, content-type parsers, rate-limit config, ...). */
  readonly options?: Record<string, unknown>;
}

const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } } } },
};

/**
 * Registers a route whose params, query and body are decoded by io-ts at the edge (a bad one is a
 * 400 naming the field) and whose OpenAPI description is generated from those same codecs.
 */
export const defineRoute = <P = Record<string, never>, Q = Record<string, never>, B = undefined, Auth extends boolean = true>(
  app: FastifyInstance,
  authenticator: Authenticator,
  spec: RouteSpec<P, Q, B, Auth>,
  handler: (ctx: RouteContext<P, Q, B, Auth extends true ? AuthContext : null>) => Promise<unknown>,
): void => {
  app.route({
    method: spec.method,
    url: spec.url,
    ...spec.options,
    schema: {
      summary: spec.summary,
      tags: [...spec.tags],
      ...(spec.auth ? { security: [{ bearer: [] }] } : {}),
      ...(spec.params ? { params: toJsonSchema(spec.params) } : {}),
      ...(spec.query ? { querystring: toJsonSchema(spec.query) } : {}),
      ...(spec.body ? { body: toJsonSchema(spec.body) } : {}),
      response: Object.fromEntries([
        ...Object.entries(spec.responses).map(([status, codec]) => [status, codec === null ? { type: 'null' } : toJsonSchema(codec)]),
        ['4xx', ErrorBody],
        ['5xx', ErrorBody],
      ]),
    },
    handler: async (request, reply) => {
      let auth: AuthContext | null = null;
      if (spec.auth) {
        const token = bearerToken(request.headers.authorization);
        auth = token === null ? null : await authenticator.authenticate(token);
        if (auth === null) throw new ApiError('unauthorized', token === null ? 'A bearer access token is required.' : 'The access token is invalid, expired or revoked.');
        (request as FastifyRequest & { auth?: AuthContext }).auth = auth;
      }
      rejectNul(request.params, 'params');
      rejectNul(request.query, 'query');
      rejectNul(request.body, 'body');
      const params = spec.params ? decodeOr400(spec.params, request.params, 'params') : ({} as P);
      const query = spec.query ? decodeOr400(spec.query, request.query, 'query') : ({} as Q);
      const body = spec.body ? decodeOr400(spec.body, request.body, 'body') : (undefined as B);
      const result = await handler({ params, query, body, auth: auth as Auth extends true ? AuthContext : null, request, reply });
      return reply.sent ? reply : result;
    },
  });
};

/** The first path at which a string (or key) holds a NUL character, if any. */
const nulAt = (value: unknown, path: string): string | null => {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = nulAt(value[i], `${path}[${i}]`);
      if (hit !== null) return hit;
    }
    return null;
  }
  // Only parsed JSON is walked: a stream or Buffer body (chunk uploads) is bytes, not fields.
  const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [k, v] of Object.entries(value as object)) {
      const hit = k.includes('\u0000') ? `${path}.${k}` : nulAt(v, `${path}.${k}`);
      if (hit !== null) return hit;
    }
  }
  return null;
};

// No field of the API may hold NUL (names, emails, keys): refused here, once, before Postgres sees it.
const rejectNul = (value: unknown, where: string): void => {
  const at = nulAt(value, where);
  if (at !== null) throw new ApiError('invalid_request', `${at} contains a NUL character.`, { field: at, reason: 'nul' });
};

/** Resources of another workspace answer not_found, never revealing that they exist. */
export const sameWorkspace = (auth: AuthContext, workspaceId: string): void => {
  if (auth.workspaceId !== workspaceId) throw new ApiError('not_found', 'No such workspace.');
};
