import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedOut } from '../../src/client/api/errors.js';
import { createSession, readTokens } from '../../src/client/api/session.js';
import { layoutOf } from '../../src/client/state/layout.js';
import { newAccount, newDevice, startServer, treeOf, type TestDevice, type TestServer } from './support/harness.js';

describe("a device's tokens", () => {
  let server: TestServer;
  const devices: TestDevice[] = [];
  beforeAll(async () => {
    // Access tokens that expire within seconds: every sync below outlives a few of them.
    server = await startServer({ accessTokenTtlSeconds: 2 });
  });
  afterAll(async () => {
    for (const d of devices) d.cleanup();
    await server?.close();
  });

  it('live in .strata/tokens.json, readable by the owner only', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop');
    devices.push(a);
    expect(fs.statSync(a.file('.strata/tokens.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(a.file('.strata')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(a.dir).mode & 0o077).not.toBe(0);
  });

  it('are refreshed silently, the rotated refresh token on disk before the new access token is used', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop');
    const b = await newDevice(server, account, 'desktop');
    devices.push(a, b);
    const layout = layoutOf(a.dir);
    const first = await readTokens(layout);
    await new Promise((r) => setTimeout(r, 2200));
    a.write('after-expiry.txt', 'still syncing');
    expect((await a.sync()).inSync).toBe(true);
    const second = await readTokens(layout);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    await b.sync();
    expect(treeOf(b.dir)).toEqual(treeOf(a.dir));
  });

  it('are refreshed once when several users of the folder need it at the same time', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop');
    devices.push(a);
    const layout = layoutOf(a.dir);
    await new Promise((r) => setTimeout(r, 2200));
    const before = await server.requests('POST', '/v1/auth/refresh');
    // Two sessions as two processes would have them: one lock file, one rotation.
    const tokens = await Promise.all([createSession(layout, server.url).accessToken(), createSession(layout, server.url).accessToken()]);
    expect(tokens[0]).toBe(tokens[1]);
    expect((await server.requests('POST', '/v1/auth/refresh')) - before).toBe(1);
    expect(fs.existsSync(layout.tokensLock)).toBe(false);
    expect((await a.sync()).inSync).toBe(true);
  });

  it('when revoked, stop the sync with a request to log in again', async () => {
    const account = await newAccount(server);
    const a = await newDevice(server, account, 'laptop');
    devices.push(a);
    const layout = layoutOf(a.dir);
    const stale = await readTokens(layout);
    await new Promise((r) => setTimeout(r, 2200));
    await a.sync();
    // The old refresh token used again: the server revokes the device.
    fs.writeFileSync(layout.tokens, JSON.stringify({ ...stale, accessExpiresAt: 0 }));
    await expect(a.sync()).rejects.toThrow(SignedOut);
    await expect(a.sync()).rejects.toThrow(/strata login/);
  });
});
