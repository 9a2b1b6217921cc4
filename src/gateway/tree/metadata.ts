import type { IsoTimestamp } from '../../domain/ids.js';
import type { CommandMetadata } from '../../domain/workspace/commands.js';
import type { GatewayDeps } from '../deps.js';
import type { AuthContext } from '../http/auth.js';

/** Who sends a command through the API, and when: the metadata every command of a request carries. */
export const commandMetadata = (deps: GatewayDeps, auth: AuthContext, requestId: string): CommandMetadata => ({
  now: deps.now().toISOString() as IsoTimestamp,
  userId: auth.userId,
  deviceId: auth.deviceId,
  correlationId: requestId,
});
