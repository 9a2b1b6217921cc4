import type { FastifyReply } from 'fastify';
import type { CommandError } from '../../commands/errors.js';
import type { DomainErrorCode } from '../../domain/errors.js';

/** The error codes of api-v1.md, with their HTTP status. */
export const API_ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  name_conflict: 409,
  version_conflict: 409,
  cycle: 409,
  email_taken: 409,
  gone: 410,
  payload_too_large: 413,
  hash_mismatch: 422,
  missing_chunks: 422,
  rate_limited: 429,
  quota_exceeded: 507,
  unavailable: 503,
  // Extensions of api-v1.md (new codes for cases it does not name):
  range_not_satisfiable: 416,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** An error answer: `{"error": {code, message, details}}` with the code's status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}

// Domain codes without an API code of their own become invalid_request (or forbidden), keeping the
// precise reason in details.reason so a client can still tell them apart.
const DOMAIN_TO_API: Readonly<Record<DomainErrorCode, ApiErrorCode>> = {
  invalid_name: 'invalid_request',
  invalid_chunks: 'invalid_request',
  size_mismatch: 'invalid_request',
  not_a_folder: 'invalid_request',
  not_a_file: 'invalid_request',
  not_in_trash: 'invalid_request',
  id_taken: 'invalid_request',
  version_is_latest: 'invalid_request',
  workspace_exists: 'invalid_request',
  root_immutable: 'forbidden',
  name_conflict: 'name_conflict',
  cycle: 'cycle',
  version_conflict: 'version_conflict',
  not_found: 'not_found',
  missing_chunks: 'missing_chunks',
  quota_exceeded: 'quota_exceeded',
  gone: 'gone',
};

export const fromCommandError = (e: CommandError): ApiError => {
  if (e._tag === 'BusyError') return new ApiError('unavailable', e.message, {}, e.retryAfterSeconds);
  const code = DOMAIN_TO_API[e.code];
  return new ApiError(code, e.message, code === e.code ? e.details : { reason: e.code, ...e.details });
};

export const sendApiError = (reply: FastifyReply, e: ApiError): FastifyReply => {
  if (e.retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
  return reply.code(e.status).send({ error: { code: e.code, message: e.message, details: e.details } });
};
