import type { DeviceId, UserId, WorkspaceId } from '../../domain/ids.js';

/** Who is calling: established from the bearer token on every /v1 call but signup, login and refresh. */
export interface AuthContext {
  readonly userId: UserId;
  readonly workspaceId: WorkspaceId;
  readonly deviceId: DeviceId;
}

/** Checks an access token: a valid, unexpired token of a device that is not revoked. */
export interface Authenticator {
  authenticate(accessToken: string): Promise<AuthContext | null>;
}

export const bearerToken = (header: string | undefined): string | null => {
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
};
