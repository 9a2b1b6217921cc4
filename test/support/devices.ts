import crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { api } from './gateway.js';

export interface Device {
  readonly userId: string;
  readonly workspaceId: string;
  readonly deviceId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly rootId: string;
}

export const PASSWORD = 'correct horse battery staple';

export const newEmail = (): string => `u${crypto.randomBytes(6).toString('hex')}@example.com`;

/** Signs up a user (unless the email exists) and logs a device in, through the public API. */
export const loginDevice = async (base: string, email: string, deviceName = 'laptop', signup = true): Promise<Device> => {
  const http = api(base);
  if (signup) {
    const s = await http.post('/v1/auth/signup', { email, password: PASSWORD });
    if (s.status !== 201) throw new Error(`signup: ${s.status} ${JSON.stringify(s.body)}`);
  }
  const l = await http.post('/v1/auth/login', { email, password: PASSWORD, deviceName });
  if (l.status !== 200) throw new Error(`login: ${l.status} ${JSON.stringify(l.body)}`);
  const body = l.body as Record<string, string>;
  const ws = await http.get(`/v1/workspaces/${body.workspaceId}`, body.accessToken);
  return {
    userId: body.userId as string,
    workspaceId: body.workspaceId as string,
    deviceId: body.deviceId as string,
    accessToken: body.accessToken as string,
    refreshToken: body.refreshToken as string,
    rootId: (ws.body as Record<string, string>).rootId as string,
  };
};

/** A connected sync socket that records every `changes` push it receives. */
export const syncSocket = async (base: string, token: string): Promise<{ socket: Socket; pushes: Array<{ workspaceId: string; cursor: number }>; next: (after: number) => Promise<number> }> => {
  const socket = io(`${base}/v1/sync`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const pushes: Array<{ workspaceId: string; cursor: number }> = [];
  const waiters: Array<() => void> = [];
  socket.on('changes', (p: { workspaceId: string; cursor: number }) => {
    pushes.push(p);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
  /** Resolves with the first pushed cursor greater than `after` (waits up to 5 s). */
  const next = (after: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no push past ${after}`)), 5000);
      const check = () => {
        const hit = pushes.find((p) => p.cursor > after);
        if (hit) {
          clearTimeout(timer);
          resolve(hit.cursor);
        } else waiters.push(check);
      };
      check();
    });
  return { socket, pushes, next };
};
