import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { AuditEventsBody, AuditHeadBody, AuditPeopleBody } from '../gateway/audit/codecs.js';
import { peopleMaps } from './postgres.js';
import type { AuditSource } from './source.js';

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
 * Audit reads through the API with a device's access token: the chain's head from /audit/head and
 * the stored events with their hashes from /audit/events, for the log and the tree as for verify.
 * What a workspace's own people can check without any access to the database. (Not the changes
 * feed: a pull there records the device's sync cursor, and an audit must not move it.)
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
    people: async (workspaceId) => peopleMaps((await get(`${ws(workspaceId)}/audit/people`, AuditPeopleBody)) ?? { users: [], devices: [] }),
    close: async () => undefined,
  };
};
