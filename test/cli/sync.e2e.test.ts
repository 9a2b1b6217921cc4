import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strata, strataDone, until } from '../client/support/cli.js';
import { MiB, noise, PASSWORD, startServer, treeOf, type TestServer } from '../client/support/harness.js';

describe('the strata command', () => {
  let server: TestServer;
  let root: string;
  const email = `cli${crypto.randomBytes(5).toString('hex')}@example.com`;
  const laptop = () => path.join(root, 'laptop');
  const desktop = () => path.join(root, 'desktop');
  beforeAll(async () => {
    server = await startServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cli-'));
  });
  afterAll(async () => {
    fs.rmSync(root, { recursive: true, force: true });
    await server?.close();
  });

  it('signs up (password on stdin) and logs two devices in, tokens readable by the owner only', async () => {
    const signup = await strataDone(['signup', '--server', server.url, '--email', email], {}, `${PASSWORD}\n`);
    expect(signup).toMatchObject({ code: 0 });
    expect(signup.output).toContain(`account created for ${email}`);
    const again = await strataDone(['signup', '--server', server.url, '--email', email, '--password', PASSWORD]);
    expect(again.code).toBe(2);
    expect(again.output).toContain('email_taken');
    for (const [dir, name] of [
      [laptop(), 'laptop'],
      [desktop(), 'desktop'],
    ] as const) {
      const login = await strataDone(['login', '--server', server.url, '--email', email, '--password', PASSWORD, '--device', name, dir]);
      expect(login.output).toContain(`is now synced as device "${name}"`);
      expect(login.code).toBe(0);
      expect(fs.statSync(path.join(dir, '.strata/tokens.json')).mode & 0o777).toBe(0o600);
    }
    const wrong = await strataDone(['login', '--server', server.url, '--email', email, '--password', 'not the password', '--device', 'x', path.join(root, 'x')]);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toContain('Wrong email or password');
  });

  it('syncs once and exits 0 in sync; status shows what is pending on the other device', async () => {
    fs.writeFileSync(path.join(laptop(), 'hello.txt'), 'hello from the laptop\n');
    fs.writeFileSync(path.join(laptop(), 'big.bin'), noise(12 * MiB, 3));
    const once = await strataDone(['sync', laptop(), '--once']);
    expect(once.output).toContain('is in sync');
    // Not a terminal: the progress bar prints plain lines.
    expect(once.output).toMatch(/uploading {2}: [\d.]+ \w+ \/ 12.0 MiB bytes/);
    expect(once.code).toBe(0);
    const status = await strataDone(['status', desktop()]);
    expect(status.code).toBe(0);
    expect(status.output).toMatch(/downloads {2}2 pending \(12\.0 MiB\)/);
    expect(status.output).toMatch(/uploads {4}0 pending/);
    expect((await strataDone(['sync', desktop(), '--once'])).code).toBe(0);
    expect(treeOf(desktop())).toEqual(treeOf(laptop()));
    expect((await strataDone(['status', desktop()])).output).toMatch(/downloads {2}0 pending/);
  });

  it('runs until stopped: a file made on one device appears on the other at once, SIGTERM stops both cleanly', async () => {
    const env = { STRATA_RESCAN_MS: '600000' };
    const a = strata(['sync', laptop()], env);
    const b = strata(['sync', desktop()], env);
    try {
      await until(() => a.output().includes('syncing') && b.output().includes('syncing'), 30_000, 50);
      // Let both finish their first round and connect their sockets.
      await new Promise((r) => setTimeout(r, 1500));
      const started = Date.now();
      fs.writeFileSync(path.join(laptop(), 'live.txt'), 'pushed through the socket');
      await until(() => fs.existsSync(path.join(desktop(), 'live.txt')), 20_000, 25);
      // The periodic rescan is ten minutes away: this came through the watcher and the socket push.
      expect(Date.now() - started).toBeLessThan(15_000);
      fs.writeFileSync(path.join(desktop(), 'reply.txt'), 'and back');
      await until(() => fs.existsSync(path.join(laptop(), 'reply.txt')), 20_000, 25);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
    }
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);
    expect(fs.existsSync(path.join(laptop(), '.strata/sync.lock'))).toBe(false);
    expect(treeOf(desktop())).toEqual(treeOf(laptop()));
  }, 90_000);

  it('stops on SIGINT in the middle of an upload, and the next run finishes it', async () => {
    fs.writeFileSync(path.join(laptop(), 'large.bin'), noise(40 * MiB, 40));
    const start = await server.bytesIn();
    const run = strata(['sync', laptop(), '--once']);
    await until(async () => (await server.bytesIn()) > start, 60_000, 5);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(run.output()).toContain('stopping');
    expect(fs.existsSync(path.join(laptop(), '.strata/sync.lock'))).toBe(false);
    expect((await strataDone(['sync', laptop(), '--once'])).code).toBe(0);
    expect((await server.bytesIn()) - start).toBe(40 * MiB);
  }, 90_000);

  it('refuses a folder that is missing or lost its marker, with exit code 3', async () => {
    const missing = await strataDone(['sync', path.join(root, 'not-mounted'), '--once']);
    expect(missing.code).toBe(3);
    expect(missing.output).toContain('does not exist (an unmounted disk?)');
    fs.mkdirSync(path.join(root, 'bare'));
    const bare = await strataDone(['status', path.join(root, 'bare')]);
    expect(bare.code).toBe(3);
    expect(bare.output).toContain('has no .strata/ marker');
  });
});
