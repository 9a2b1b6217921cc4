/**
 * The catalogue of domain errors. Codes are stable: clients and the gateway match on them.
 * Only the gateway maps a code to an HTTP status.
 */
export type DomainErrorCode =
  | 'invalid_name'
  | 'invalid_chunks'
  | 'size_mismatch'
  | 'name_conflict'
  | 'cycle'
  | 'version_conflict'
  | 'not_found'
  | 'not_a_folder'
  | 'not_a_file'
  | 'root_immutable'
  | 'not_in_trash'
  | 'id_taken'
  | 'workspace_exists'
  | 'version_is_latest'
  | 'missing_chunks'
  | 'quota_exceeded'
  | 'gone';

export interface DomainError {
  readonly _tag: 'DomainError';
  readonly code: DomainErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export const domainError = (
  code: DomainErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): DomainError => ({ _tag: 'DomainError', code, message, details });

export const isDomainError = (u: unknown): u is DomainError =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'DomainError';
