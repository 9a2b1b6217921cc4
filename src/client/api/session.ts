import fs from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { isErrno, readJsonFile, writeFileAtomic } from '../state/files.js';
import type { Layout } from '../state/layout.js';
import { TokenPair } from './codecs.js';
import { ServerRefusal, SignedOut } from './errors.js';
import { createHttp, type TokenSource } from './http.js';

const StoredTokens = t.type({ accessToken: t.string, refreshToken: t.string, accessIssuedAt: t.number, accessExpiresAt: t.number });
export type StoredTokens = t.TypeOf<typeof StoredTokens>;

// Refreshed a minute early (a quarter of its life for short-lived ones): a token that expires
// mid-request costs a 401 and a retry.
const EARLY_MS = 60_000;
const freshFor = (tokens: StoredTokens, now = Date.now()): boolean =>
  tokens.accessExpiresAt - Math.min(EARLY_MS, (tokens.accessExpiresAt - tokens.accessIssuedAt) / 4) > now;
const LOCK_STALE_MS = 30_000;

export const tokensFrom = (pair: TokenPair, now = Date.now()): StoredTokens => ({
  accessToken: pair.accessToken,
  refreshToken: pair.refreshToken,
  accessIssuedAt: now,
  accessExpiresAt: now + pair.expiresIn * 1000,
});

/** Tokens are secrets: the file is the owner's alone (0600) and never leaves .strata/. */
export const writeTokens = (layout: Layout, tokens: StoredTokens): Promise<void> => writeFileAtomic(layout.tokens, JSON.stringify(tokens), 0o600);

export const readTokens = async (layout: Layout): Promise<StoredTokens> => {
  const decoded = StoredTokens.decode(await readJsonFile(layout.tokens));
  if (E.isLeft(decoded)) throw new SignedOut(`${layout.tokens} is missing or damaged; run \`strata login\` again`);
  return decoded.right;
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
};

/**
 * An exclusive lock file holding the owner's pid. A lock whose owner is dead (kill -9) or that is
 * older than staleMs is taken over.
 */
export const withFileLock = async <A>(file: string, work: () => Promise<A>, staleMs = LOCK_STALE_MS): Promise<A> => {
  for (let tries = 0; ; tries++) {
    try {
      const handle = await fs.open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      const [pid, stat] = await Promise.all([fs.readFile(file, 'utf8').catch(() => ''), fs.stat(file).catch(() => null)]);
      if (stat === null) continue;
      if (!alive(Number(pid)) || Date.now() - stat.mtimeMs > staleMs) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (tries > staleMs / 50) throw new Error(`${file} stays locked by process ${pid}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(file, { force: true });
  }
};

/**
 * The device's tokens. A refresh rotates the refresh token, and the server revokes a device whose
 * refresh token is used twice: so refreshes are serialized (in this process, and across processes
 * by a lock file), the tokens file is re-read under the lock (another process may have rotated
 * already), and the new pair is on disk, fsynced, before the new access token is used.
 */
export const createSession = (layout: Layout, server: string): TokenSource => {
  let current: StoredTokens | null = null;
  let inFlight: Promise<string> | null = null;
  const http = createHttp(server, null);

  const rotate = async (refused: string | null): Promise<string> => {
    return withFileLock(layout.tokensLock, async () => {
      const onDisk = await readTokens(layout);
      if (freshFor(onDisk) && onDisk.accessToken !== refused) {
        current = onDisk;
        return onDisk.accessToken;
      }
      let pair;
      try {
        pair = await http.json('POST', '/v1/auth/refresh', TokenPair, { body: { refreshToken: onDisk.refreshToken }, auth: false });
      } catch (e) {
        if (e instanceof ServerRefusal && e.status === 401) throw new SignedOut(`this device was signed out (${e.message}); run \`strata login\` again`);
        throw e;
      }
      const next = tokensFrom(pair);
      await writeTokens(layout, next);
      current = next;
      return next.accessToken;
    });
  };

  const refresh = (refused: string | null): Promise<string> => {
    inFlight ??= rotate(refused).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  return {
    accessToken: async () => {
      current ??= await readTokens(layout);
      if (freshFor(current)) return current.accessToken;
      return refresh(current.accessToken);
    },
    refresh: (refused) => refresh(refused),
  };
};
