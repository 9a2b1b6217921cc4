import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { ErrorEnvelope } from './codecs.js';
import { ServerRefusal, ServerUnavailable, SignedOut, Stopped } from './errors.js';

/** Where bearer tokens come from; refresh is called with the token the server just refused. */
export interface TokenSource {
  accessToken(): Promise<string>;
  refresh(refused: string): Promise<string>;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Bearer token from the session (default true for JSON calls). */
  readonly auth?: boolean;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A body sent as it is (application/octet-stream unless headers say otherwise). */
  readonly rawBody?: Uint8Array;
}

const DEFAULT_TIMEOUT_MS = 60_000;
// Rate limits are part of a bulk sync's life: waited out in place a few times before the caller backs off.
const RATE_LIMIT_RETRIES = 8;
const MAX_WAIT_MS = 60_000;
const BRIEF_BUSY_MS = 5_000;
const BUSY_RETRIES = 2;

const retryAfterMs = (res: Response): number | null => {
  const header = res.headers.get('retry-after');
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
};

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(new Stopped('stopping'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped('stopping'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const refusalOf = async (res: Response): Promise<ServerRefusal> => {
  const text = await res.text().catch(() => '');
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: described by the status alone
  }
  const envelope = ErrorEnvelope.decode(parsed);
  if (E.isRight(envelope)) return new ServerRefusal(res.status, envelope.right.error.code, envelope.right.error.message, envelope.right.error.details ?? {});
  return new ServerRefusal(res.status, `http_${res.status}`, `HTTP ${res.status}: ${text.slice(0, 200)}`, {});
};

export type Http = ReturnType<typeof createHttp>;

/**
 * fetch for the v1 API: bearer tokens (one refresh and retry on a 401), rate limits waited out,
 * error envelopes turned into ServerRefusal, an unreachable or overloaded server into
 * ServerUnavailable (the sync engine's backoff takes it from there).
 */
export const createHttp = (server: string, tokens: TokenSource | null, stop?: AbortSignal) => {
  const base = server.replace(/\/+$/, '');

  const stopped = (): boolean => stop?.aborted === true;

  const urlOf = (pathOrUrl: string, query: CallOptions['query']): string => {
    const url = new URL(pathOrUrl.startsWith('http') ? pathOrUrl : `${base}${pathOrUrl}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  };

  /** One call, answered by a 2xx Response (caller reads the body) or an error. */
  const send = async (method: string, pathOrUrl: string, options: CallOptions = {}): Promise<Response> => {
    const url = urlOf(pathOrUrl, options.query);
    const useAuth = options.auth ?? !pathOrUrl.startsWith('http');
    let token = useAuth && tokens !== null ? await tokens.accessToken() : null;
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      if (stopped()) throw new Stopped('stopping');
      const headers: Record<string, string> = { ...options.headers };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | Uint8Array | undefined;
      if (options.rawBody !== undefined) {
        body = options.rawBody;
        headers['content-type'] ??= 'application/octet-stream';
      } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, signal: stop === undefined ? timeout : AbortSignal.any([stop, timeout]) });
      } catch (e) {
        if (stopped()) throw new Stopped('stopping');
        // A kept-alive connection the server closed in between fails once, harmlessly: try once more.
        if (attempt === 0) continue;
        throw new ServerUnavailable(`cannot reach ${base}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, null, { cause: e });
      }
      if (res.ok) return res;
      if (res.status === 401 && token !== null && tokens !== null && !refreshed) {
        await res.body?.cancel();
        refreshed = true;
        token = await tokens.refresh(token);
        continue;
      }
      if (res.status === 429 || res.status === 503) {
        const wait = retryAfterMs(res) ?? 1000;
        await res.body?.cancel();
        // A rate limit, or a short "busy, come back in a second": waited out in place a few times.
        if ((res.status === 429 && attempt < RATE_LIMIT_RETRIES) || (res.status === 503 && wait <= BRIEF_BUSY_MS && attempt < BUSY_RETRIES)) {
          await sleep(Math.min(wait, MAX_WAIT_MS) * (0.8 + Math.random() * 0.4), stop);
          continue;
        }
        throw new ServerUnavailable(`${base} answered ${res.status}; retry in ${Math.round(wait / 1000)} s`, wait);
      }
      // 507 (quota) is an answer about this request, not about the server's health.
      if (res.status >= 500 && res.status !== 507) {
        const refusal = await refusalOf(res);
        throw new ServerUnavailable(`${base} failed: ${refusal.message}`, retryAfterMs(res));
      }
      const refusal = await refusalOf(res);
      if (res.status === 401 && useAuth) throw new SignedOut(`the server refused this device's tokens (${refusal.message}); run \`strata login\` again`);
      throw refusal;
    }
  };

  const json = async <A>(method: string, path: string, codec: t.Decoder<unknown, A>, options: CallOptions = {}): Promise<A> => {
    const res = await send(method, path, options);
    const text = await res.text();
    const decoded = codec.decode(text === '' ? null : JSON.parse(text));
    if (E.isLeft(decoded)) throw new Error(`unexpected answer to ${method} ${path}: ${PathReporter.report(decoded).join('; ')}`);
    return decoded.right;
  };

  return { send, json, base };
};
