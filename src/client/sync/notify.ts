import { io, type Socket } from 'socket.io-client';
import type { TokenSource } from '../api/http.js';
import type { Api } from '../api/v1.js';
import { sleep } from './sleep.js';

/** What the server pushes on /v1/sync (api-v1.md): a new cursor for the workspace. */
interface ServerToClientEvents {
  changes: (payload: { workspaceId: string; cursor: number }) => void;
}
type ClientToServerEvents = Record<string, never>;

const LONG_POLL_SECONDS = 30;

/**
 * Calls onChange when the workspace moves past the cursor this device has: at once on a socket
 * push (and on every (re)connect, to catch what passed while disconnected); while the socket is
 * down, by long-polling the changes feed.
 */
export const watchRemote = (options: {
  server: string;
  workspaceId: string;
  tokens: TokenSource;
  api: Api;
  cursor: () => number;
  onChange: () => void;
  stop: AbortSignal;
}): { close(): void } => {
  const { stop } = options;
  const done = new AbortController();
  const halt = AbortSignal.any([stop, done.signal]);
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`${options.server.replace(/\/+$/, '')}/v1/sync`, {
    transports: ['websocket'],
    reconnectionDelay: 1000,
    reconnectionDelayMax: 60_000,
    // A function: every (re)connection presents the current access token, refreshed as needed.
    auth: (cb) => {
      options.tokens.accessToken().then(
        (token) => cb({ token }),
        () => cb({ token: '' }),
      );
    },
  });
  socket.on('changes', (payload) => {
    if (payload.workspaceId === options.workspaceId && payload.cursor > options.cursor()) options.onChange();
  });
  socket.on('connect', () => options.onChange());
  let refusals = 0;
  socket.on('connect_error', (err) => {
    // Refused by the server's middleware (an expired token): socket.io does not retry that by itself.
    if (socket.active) return;
    refusals++;
    if (err.message === 'unauthorized') void options.tokens.refresh('').catch(() => undefined);
    setTimeout(() => {
      if (!halt.aborted) socket.connect();
    }, Math.min(60_000, 1000 * 2 ** Math.min(refusals, 6)));
  });
  socket.on('connect', () => {
    refusals = 0;
  });

  const longPoll = async () => {
    let failures = 0;
    while (!halt.aborted) {
      if (socket.connected) {
        await sleep(1000, halt);
        continue;
      }
      try {
        const seen = options.cursor();
        const answer = await options.api.longPoll(seen, LONG_POLL_SECONDS);
        failures = 0;
        if (answer.cursor > seen) {
          options.onChange();
          // Give the sync a moment to pull before asking again.
          for (let i = 0; i < 20 && options.cursor() < answer.cursor && !halt.aborted; i++) await sleep(250, halt);
        }
      } catch {
        failures++;
        await sleep(Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() * 0.5), halt);
      }
    }
  };
  void longPoll();

  return {
    close: () => {
      done.abort();
      socket.disconnect();
    },
  };
};
