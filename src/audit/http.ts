import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { WorkspaceEvent } from '../domain/workspace/events.js';
import { AuditEventsBody, AuditHeadBody } from '../gateway/audit/codecs.js';
import { ChangesBody } from '../gateway/sync/codecs.js';
import type { AuditEvent, AuditSource } from './source.js';

/** A refusal or an unexpected answer of the server, with its error code when it sent one. */
export class AuditHttpError extends Error {
  override readonly name = 'AuditHttpError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const decodeAnswer = <A>(codec: t.Decoder<unknown, A>, body: unknown, what: string): A => {
  const r = codec.decode(body);
  if (E.isLeft(r)) throw new AuditHttpError(`unexpected answer from ${what}: ${PathReporter.report(r).join('; ')}`, 200);
  return r.right;
};

/**
 * Audit reads through the API with a device's access token: the workspace's events from the changes
 * feed, the chain from /audit/head and /audit/events. What a workspace's own people can check
 * without any access to the database.
 */
export const httpAuditSource = (server: string, token: string, fetchImpl: typeof fetch = fetch): AuditSource => {
  const base = server.replace(/\/+$/, '');
  const get = async <A>(path: string, codec: t.Decoder<unknown, A>): Promise<A | null> => {
    const res = await fetchImpl(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.status === 404) return null;
    if (!res.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new AuditHttpError(`${path}: ${res.status} ${error?.code ?? ''} ${error?.message ?? text.slice(0, 200)}`.trim(), res.status);
    }
    return decodeAnswer(codec, body, path);
  };
  const ws = (id: string) => `/v1/workspaces/${encodeURIComponent(id)}`;
  return {
    head: (workspaceId) => get(`${ws(workspaceId)}/audit/head`, AuditHeadBody),
    chained: async (workspaceId, after, limit) => (await get(`${ws(workspaceId)}/audit/events?after=${after}&limit=${limit}`, AuditEventsBody))?.events ?? [],
    events: async (workspaceId, after, limit) => {
      const page = await get(`${ws(workspaceId)}/changes?cursor=${after}&limit=${limit}`, ChangesBody);
      return (page?.events ?? []).map((e): AuditEvent => {
        const decoded = WorkspaceEvent.decode({ type: e.type, data: e.data });
        return {
          seq: e.seq, at: e.at, userId: e.userId, deviceId: e.deviceId,
          // Types newer than this build are shown by name; clients ignore types they do not know (api-v1.md).
          event: E.isRight(decoded) ? decoded.right : { type: e.type, data: e.data, unknown: true },
        };
      });
    },
    close: async () => undefined,
  };
};
