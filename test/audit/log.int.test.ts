import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamAuditLog, type AuditLogEntry } from '../../src/audit/log.js';
import { postgresAuditSource } from '../../src/audit/postgres.js';
import type { AuditSource } from '../../src/audit/source.js';
import type { CliIo } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import type { WorkspaceEvent } from '../../src/domain/workspace/events.js';
import { appendInTransaction } from '../../src/storage/eventlog/postgres/append.js';
import type { NewEvent } from '../../src/storage/eventlog/types.js';
import { workspaceStreamId } from '../../src/storage/eventlog/workspaceSchema.js';
import { inTransaction } from '../../src/storage/postgres/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loginDevice, newEmail, type Device } from '../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';
import { chunkOf, commandsFor } from '../support/workspaceCommands.js';
import { handlerFor, newWorkspaceId } from '../support/workspaceHarness.js';
import { Captured, cli } from './support.js';

/** A loopback port nothing listens on. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

// The gateway's clock sits before the recipe clock (which starts at 2026-01-01T00:00:01Z and ticks a second per command).
const GATEWAY_NOW = new Date('2025-12-31T00:00:00.000Z');
const tick = (n: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + n * 1000).toISOString();

describe('the audit of a workspace', () => {
  let db: TestDatabase;
  let gateway: TestGateway;
  let dev: Device;
  const email = newEmail();
  beforeAll(async () => {
    db = await createTestDatabase();
    gateway = await startTestGateway(db, { now: () => GATEWAY_NOW });
    dev = await loginDevice(gateway.url, email);
    const c = commandsFor(dev.workspaceId, dev.userId);
    const handle = handlerFor(db);
    for (const cmd of [
      c.createFolder(dev.rootId, 'Projects', 'projects'), // 2, t1
      c.createFolder('projects', 'Old', 'old'), // 3, t2
      c.commitNew('old', 'a.txt', [chunkOf('a')], 'fa'), // 4, t3
      c.move('old', dev.rootId, 'Archive'), // 5, t4
      c.commitEdit({ fileId: 'fa', parentId: 'old', name: 'a.txt' }, 'v1', [chunkOf('a2')]), // 6, t5
      c.remove('fa'), // 7, t6
      c.undelete('fa'), // 8, t7
    ])
      expect(E.isRight(await handle(cmd))).toBe(true);
  });
  afterAll(async () => {
    await gateway.close();
    await db.drop();
  });

  const viaDb = (argv: string[]) => cli(argv, { DATABASE_URL: db.url });
  const viaApi = (argv: string[], token = dev.accessToken) => cli([...argv, '--server', gateway.url, '--token', token]);

  describe('audit log', () => {
    it('lists every change in order with time, user, device, type and the paths it had then', async () => {
      const r = await viaDb(['audit', 'log', '--workspace', dev.workspaceId, '--json']);
      expect(r.code).toBe(0);
      const entries = r.out.lines.map((l) => JSON.parse(l) as AuditLogEntry);
      expect(entries.map((e) => [e.seq, e.type, e.path, e.fromPath])).toEqual([
        [1, 'WorkspaceCreated', '/', undefined],
        [2, 'FolderCreated', '/Projects', undefined],
        [3, 'FolderCreated', '/Projects/Old', undefined],
        [4, 'FileVersionCommitted', '/Projects/Old/a.txt', undefined],
        [5, 'NodeMoved', '/Archive', '/Projects/Old'],
        [6, 'FileVersionCommitted', '/Archive/a.txt', undefined],
        [7, 'NodeDeleted', '/Archive/a.txt', undefined],
        [8, 'NodeRestored', '/Archive/a.txt', undefined],
      ]);
      expect(entries[0]).toMatchObject({ at: GATEWAY_NOW.toISOString(), userId: dev.userId });
      expect(entries[3]).toMatchObject({ at: tick(3), userId: dev.userId, deviceId: null, nodeId: 'fa' });
      const text = await viaDb(['audit', 'log', '--workspace', dev.workspaceId]);
      expect(text.out.lines[4]).toBe(`${tick(4)}  #5  NodeMoved             user=${email}  device=-  /Projects/Old -> /Archive`);
    });

    it("names who and which device: the user's email and the device's name, a revoked device too, by either access", async () => {
      const owner = newEmail();
      const laptop = await loginDevice(gateway.url, owner, 'work laptop');
      const phone = await loginDevice(gateway.url, owner, 'phone', false);
      const http = api(gateway.url);
      expect((await http.post('/v1/folders', { workspaceId: laptop.workspaceId, parentId: laptop.rootId, name: 'Shared' }, laptop.accessToken)).status).toBe(201);
      expect((await http.delete(`/v1/devices/${laptop.deviceId}`, phone.accessToken)).status).toBe(204);
      const expected = `user=${owner}  device="work laptop"(${laptop.deviceId})  /Shared`;
      for (const read of [viaDb, (argv: string[]) => viaApi(argv, phone.accessToken)]) {
        const text = await read(['audit', 'log', '--workspace', laptop.workspaceId]);
        expect(text.out.lines[1]?.endsWith(`#2  FolderCreated         ${expected}`)).toBe(true);
        const json = (await read(['audit', 'log', '--workspace', laptop.workspaceId, '--json'])).out.lines.map((l) => JSON.parse(l) as AuditLogEntry);
        expect(json[1]).toMatchObject({ userId: laptop.userId, userEmail: owner, deviceId: laptop.deviceId, deviceName: 'work laptop' });
      }
    });

    it('filters by path (either end of a move) and by time', async () => {
      const seqs = async (extra: string[]) =>
        (await viaDb(['audit', 'log', '--workspace', dev.workspaceId, '--json', ...extra])).out.lines.map((l) => (JSON.parse(l) as AuditLogEntry).seq);
      expect(await seqs(['--path', '/Archive'])).toEqual([5, 6, 7, 8]);
      expect(await seqs(['--path', '/Projects/Old/'])).toEqual([3, 4, 5]);
      expect(await seqs(['--since', tick(3), '--until', tick(5)])).toEqual([4, 5, 6]);
      expect(await seqs(['--path', '/Archive', '--until', tick(5)])).toEqual([5, 6]);
    });

    it('shows, for a path, the moves, deletes and undeletes of the folders above it', async () => {
      const seqs = async (ws: string, p: string) =>
        (await viaDb(['audit', 'log', '--workspace', ws, '--json', '--path', p])).out.lines.map((l) => (JSON.parse(l) as AuditLogEntry).seq);
      // Moved away with its folder: the file's own changes, then the folder's move.
      expect(await seqs(dev.workspaceId, '/Projects/Old/a.txt')).toEqual([4, 5]);
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      for (const cmd of [
        c.createWorkspace(), // 1
        c.createFolder('root', 'Docs', 'docs'), // 2
        c.commitNew('docs', 'r.txt', [chunkOf('r')], 'fr'), // 3
        c.remove('docs'), // 4
        c.undelete('docs'), // 5
        c.move('docs', 'root', 'Papers'), // 6
      ])
        expect(E.isRight(await handlerFor(db)(cmd))).toBe(true);
      expect(await seqs(ws, '/Docs/r.txt')).toEqual([3, 4, 5, 6]);
      expect(await seqs(ws, '/Papers/r.txt')).toEqual([6]);
      // The creation of a folder above is not a change of what is below it.
      expect(await seqs(ws, '/Docs')).toEqual([2, 3, 4, 5, 6]);
    });

    it('reads the same through the API with a device token as from the database', async () => {
      const direct = await viaDb(['audit', 'log', '--workspace', dev.workspaceId]);
      const remote = await viaApi(['audit', 'log', '--workspace', dev.workspaceId]);
      expect(remote.code).toBe(0);
      expect(remote.out.text).toBe(direct.out.text);
    });

    it("refuses another workspace's token", async () => {
      const other = await loginDevice(gateway.url, newEmail());
      const r = await viaApi(['audit', 'log', '--workspace', dev.workspaceId], other.accessToken);
      expect(r.code).toBe(1);
      expect(r.err.text).toMatch(/no workspace .* \(or not one this token may read\)/);
      expect(r.out.text).toBe('');
    });

    it("reads through the API without moving the device's sync cursor, as a pull of the changes feed does", async () => {
      const auditor = await loginDevice(gateway.url, email, 'auditor', false);
      const cursorOf = async () => Number((await db.pool.query<{ cursor: string }>('SELECT cursor FROM devices WHERE device_id = $1', [auditor.deviceId])).rows[0]?.cursor);
      const before = await cursorOf();
      expect((await viaApi(['audit', 'log', '--workspace', dev.workspaceId], auditor.accessToken)).code).toBe(0);
      expect((await viaApi(['audit', 'tree', '--workspace', dev.workspaceId, '--at', tick(9)], auditor.accessToken)).code).toBe(0);
      expect((await viaApi(['audit', 'verify', '--workspace', dev.workspaceId], auditor.accessToken)).code).toBe(0);
      // Pulls are written within a second (src/gateway/accounts/pulls.ts).
      await new Promise((r) => setTimeout(r, 1500));
      expect(await cursorOf()).toBe(before);
      // The same device pulling the changes feed moves it: the check above could see a move.
      expect((await api(gateway.url).get(`/v1/workspaces/${dev.workspaceId}/changes?cursor=0`, auditor.accessToken)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await cursorOf()).toBe(8);
    });
  });

  describe('audit tree', () => {
    it('shows the tree as it was at a moment', async () => {
      const at3 = await viaDb(['audit', 'tree', '--workspace', dev.workspaceId, '--at', tick(3)]);
      expect(at3.out.lines.map((l) => l.split('  ')[0])).toEqual(['/', '/Projects/', '/Projects/Old/', '/Projects/Old/a.txt']);
      const at6 = await viaApi(['audit', 'tree', '--workspace', dev.workspaceId, '--at', tick(6)]);
      expect(at6.code).toBe(0);
      expect(at6.out.lines).toEqual(['/', '/Archive/', '/Projects/']);
      const json = await viaApi(['audit', 'tree', '--workspace', dev.workspaceId, '--at', tick(7), '--json']);
      expect(json.out.lines.map((l) => JSON.parse(l) as { path: string; kind: string })).toContainEqual(expect.objectContaining({ path: '/Archive/a.txt', kind: 'file' }));
      expect((await viaDb(['audit', 'tree', '--workspace', dev.workspaceId, '--at', '2020-01-01T00:00:00Z'])).code).toBe(1);
    });
  });

  describe('audit head and verify through the API', () => {
    it("exposes the chain head, verifies with a token, and pins the head an auditor recorded", async () => {
      const head = await api(gateway.url).get(`/v1/workspaces/${dev.workspaceId}/audit/head`, dev.accessToken);
      expect(head.status).toBe(200);
      const stored = await db.pool.query<{ version: string; h: string }>(`SELECT version, encode(head_hash, 'hex') AS h FROM es_streams WHERE stream_id = $1`, [
        workspaceStreamId(dev.workspaceId),
      ]);
      expect(head.body).toEqual({ cursor: Number(stored.rows[0]?.version), headHash: stored.rows[0]?.h });
      const events = await api(gateway.url).get(`/v1/workspaces/${dev.workspaceId}/audit/events?after=2&limit=3`, dev.accessToken);
      expect(events.body).toMatchObject({ cursor: 5, hasMore: true });
      const r = await viaApi(['audit', 'verify', '--workspace', dev.workspaceId, '--pin', `8:${head.body.headHash as string}`]);
      expect(r.code).toBe(0);
      expect(r.out.text).toMatch(/^ok: 8 events/);
      expect((await api(gateway.url).get(`/v1/workspaces/${dev.workspaceId}/audit/head`)).status).toBe(401);
    });
  });

  describe('when a command cannot give a verdict', () => {
    it('says there is no such workspace, and does not call a missing or unreadable one altered', async () => {
      const other = await loginDevice(gateway.url, newEmail());
      for (const r of [
        await viaDb(['audit', 'verify', '--workspace', 'no-such-workspace']),
        await viaApi(['audit', 'verify', '--workspace', dev.workspaceId], other.accessToken),
        await viaApi(['audit', 'tree', '--workspace', dev.workspaceId, '--at', tick(9)], other.accessToken),
      ]) {
        expect(r.code).toBe(1);
        expect(r.err.text).toMatch(/^no workspace .* \(or not one this token may read\)/);
        expect(r.out.text).toBe('');
      }
      // A head pinned earlier that is gone now is an altered history.
      const pinned = await viaDb(['audit', 'verify', '--workspace', 'no-such-workspace', '--pin', `3:${'ab'.repeat(32)}`]);
      expect(pinned.code).toBe(1);
      expect(pinned.out.text).toMatch(/^ALTERED: .*no such workspace stream/);
    });

    it('exits 2 when refused and 4 when the database or server cannot be reached, never 1', async () => {
      const verify = ['audit', 'verify', '--workspace', dev.workspaceId];
      const refusedToken = await viaApi(verify, 'not-a-token');
      expect([refusedToken.code, refusedToken.err.text]).toEqual([2, expect.stringMatching(/the server refused: .*401/)]);
      const closed = await closedPort();
      const noServer = await cli([...verify, '--server', `http://127.0.0.1:${closed}`, '--token', dev.accessToken]);
      expect([noServer.code, noServer.err.text]).toEqual([4, expect.stringMatching(/cannot reach the database or server: .*ECONNREFUSED/)]);
      const noDatabase = `postgres://postgres@127.0.0.1:${closed}/strata`;
      for (const argv of [verify, ['audit', 'log', '--workspace', dev.workspaceId], ['admin', 'verify'], ['admin', 'projections', 'list'], ['admin', 'purge', '--dry-run']]) {
        const r = await cli([...argv, '--database-url', noDatabase]);
        expect([argv.join(' '), r.code, r.err.text]).toEqual([argv.join(' '), 4, expect.stringMatching(/cannot reach the database or server/)]);
      }
      const unknownDatabase = new URL(db.url);
      unknownDatabase.pathname = '/strata_no_such_database';
      const r = await cli([...verify, '--database-url', unknownDatabase.toString()]);
      expect([r.code, r.err.text]).toEqual([2, expect.stringMatching(/the database refused: .*does not exist/)]);
      const nowhere = await cli(verify, { STRATA_DATA_DIR: '/nonexistent' });
      expect([nowhere.code, nowhere.err.text]).toEqual([2, expect.stringMatching(/no database: .* or read through the API: --server URL --token TOKEN/)]);
    });
  });

  describe('a workspace with 20,000 events', () => {
    const EVENTS = 20_000;
    const PAGE = 1000;
    const ws = `big${crypto.randomBytes(3).toString('hex')}`;
    beforeAll(async () => {
      const meta = { at: tick(1), userId: 'u1', deviceId: null, correlationId: 'c', causationId: null } as NewEvent<WorkspaceEvent>['metadata'];
      const event = (i: number): NewEvent<WorkspaceEvent> => ({
        eventId: crypto.randomUUID(),
        schemaVersion: 1,
        metadata: meta,
        event: (i === 1
          ? { type: 'WorkspaceCreated', data: { workspaceId: ws, rootId: 'root', ownerId: 'u1', quotaBytes: 1 } }
          : { type: 'FolderCreated', data: { nodeId: `n${i}`, parentId: i < 20 ? 'root' : `n${(i * 7919) % (i - 2) + 2}`, name: `f${i}` } }) as WorkspaceEvent,
      });
      for (let from = 1; from <= EVENTS; from += 2000)
        await inTransaction(db.pool, (client) => appendInTransaction(client, workspaceStreamId(ws), from - 1, Array.from({ length: 2000 }, (_, k) => event(from + k))));
    });

    it('streams the log a page at a time, writing as it reads', async () => {
      const source = postgresAuditSource(db.pool, false);
      const fetches: Array<{ size: number; emittedBefore: number }> = [];
      let emitted = 0;
      const counting: AuditSource = {
        ...source,
        chained: async (w, after, limit) => {
          const page = await source.chained(w, after, limit);
          fetches.push({ size: page.length, emittedBefore: emitted });
          return page;
        },
      };
      const result = await streamAuditLog(counting, ws, {}, () => void emitted++, PAGE);
      expect(result).toMatchObject({ events: EVENTS, shown: EVENTS });
      expect(Math.max(...fetches.map((f) => f.size))).toBeLessThanOrEqual(PAGE);
      // Before each page is read, every earlier event has been written out: never more than a page held.
      fetches.forEach((f, i) => expect(f.emittedBefore).toBe(i * PAGE));
      const r = await viaDb(['audit', 'log', '--workspace', ws, '--path', '/f3']);
      expect(r.code).toBe(0);
      expect(r.out.lines.length).toBeGreaterThan(1);
      expect(r.out.lines.every((l) => / \/f3(\/|$)/.test(l))).toBe(true);
    });

    it('stops quietly, exit 0, when whoever reads its output goes away (strata audit log | head)', async () => {
      let lines = 0;
      const closing = new Writable({
        write(_chunk, _encoding, done) {
          lines++;
          done(lines > 2 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
        },
      });
      const err = new Captured();
      const io: CliIo = { out: closing, err, env: { DATABASE_URL: db.url }, interactive: false };
      expect(await runCli(['audit', 'log', '--workspace', ws], io)).toBe(0);
      expect(err.text).toBe('');
      expect(lines).toBeLessThan(10);

      // The same in a process of its own, its standard output a pipe closed after the first line.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'log', '--workspace', ws], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    });
  });
});
