import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { AuthContext, Authenticator } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { ClientToServerEvents, ServerToClientEvents } from './codecs.js';

interface SocketData {
  auth: AuthContext;
}

export interface SyncSockets {
  /** Tells every device of the workspace, on every node, that a new cursor exists. */
  changed(workspaceId: string, cursor: number): void;
  /** Disconnects a device's sockets on every node (revoked devices). */
  disconnectDevice(deviceId: string): void;
  close(): Promise<void>;
}

const workspaceRoom = (id: string) => `ws:${id}`;
const deviceRoom = (id: string) => `device:${id}`;

/**
 * socket.io namespace /v1/sync. The handshake's token names the device; its socket joins the
 * workspace's room. With Redis, the adapter carries emits and disconnects to every node.
 */
export const attachSyncSockets = (
  server: HttpServer,
  deps: { authenticator: Authenticator; logger: Logger; metrics: Metrics; redis: { pub: Redis; sub: Redis } | null },
): SyncSockets => {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(server, {
    serveClient: false,
    ...(deps.redis === null ? {} : { adapter: createAdapter(deps.redis.pub, deps.redis.sub) }),
  });
  const nsp = io.of('/v1/sync');
  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') return next(new Error('unauthorized'));
    deps.authenticator.authenticate(token).then(
      (auth) => {
        if (auth === null) return next(new Error('unauthorized'));
        socket.data.auth = auth;
        next();
      },
      (err: unknown) => {
        deps.logger.warn({ err }, 'socket authentication failed');
        next(new Error('unavailable'));
      },
    );
  });
  nsp.on('connection', (socket) => {
    void socket.join([workspaceRoom(socket.data.auth.workspaceId), deviceRoom(socket.data.auth.deviceId)]);
    deps.metrics.sockets.inc();
    socket.on('disconnect', () => deps.metrics.sockets.dec());
  });
  return {
    changed: (workspaceId, cursor) => void nsp.to(workspaceRoom(workspaceId)).emit('changes', { workspaceId, cursor }),
    disconnectDevice: (deviceId) => void nsp.in(deviceRoom(deviceId)).disconnectSockets(true),
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
};
