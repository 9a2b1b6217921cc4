import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import { rebuildLive } from '../../../src/projections/admin/rebuildLive.js';
import { verifyProjection } from '../../../src/projections/admin/verify.js';
import { treeProjection } from '../../../src/projections/registry.js';
import { appendInTransaction } from '../../../src/storage/eventlog/postgres/append.js';
import type { NewEvent } from '../../../src/storage/eventlog/types.js';
import { workspaceStreamId } from '../../../src/storage/eventlog/workspaceSchema.js';
import { inTransaction } from '../../../src/storage/postgres/transaction.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { loginDevice, newEmail, type Device } from '../../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Appends `events` folder creations to a new workspace's stream, straight to the log, 2,000 per transaction. */
const seedWorkspace = async (db: TestDatabase, ws: string, events: number): Promise<void> => {
  const metadata = { at: '2026-01-01T00:00:00.000Z', userId: 'u1', deviceId: null, correlationId: 'seed', causationId: null } as NewEvent<WorkspaceEvent>['metadata'];
  const event = (i: number): NewEvent<WorkspaceEvent> => ({
    eventId: crypto.randomUUID(),
    schemaVersion: 1,
    metadata,
    event: (i === 1
      ? { type: 'WorkspaceCreated', data: { workspaceId: ws, rootId: 'root', ownerId: 'u1', quotaBytes: 1 } }
      : { type: 'FolderCreated', data: { nodeId: `n${i}`, parentId: i < 20 ? 'root' : `n${((i * 7919) % (i - 2)) + 2}`, name: `f${i}` } }) as WorkspaceEvent,
  });
  for (let from = 1; from <= events; from += 2000) {
    const n = Math.min(2000, events - from + 1);
    await inTransaction(db.pool, (client) => appendInTransaction(client, workspaceStreamId(ws), from - 1, Array.from({ length: n }, (_, k) => event(from + k))));
  }
};

/** `strata admin projections rebuild tree` in a process of its own, as an operator runs it. */
const rebuildProcess = (db: TestDatabase): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'projections', 'rebuild', 'tree'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
};

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The live tables' identities: a switch replaces every one of them, nothing else does. */
const liveTableOids = async (db: TestDatabase): Promise<string[]> =>
  (
    await db.pool.query<{ oid: string }>(
      `SELECT c.oid::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'rm' AND c.relname = ANY($1::text[]) ORDER BY c.relname`,
      [treeProjection.tables],
    )
  ).rows.map((r) => r.oid);

const schemas = async (db: TestDatabase): Promise<string[]> =>
  (await db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm%' ORDER BY nspname`)).rows.map((r) => r.nspname);

/** Sessions of this database waiting for a lock. */
const lockWaiters = async (db: TestDatabase): Promise<number> =>
  Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0]?.n);

const rebuildSessions = async (db: TestDatabase): Promise<number> =>
  Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata-cli'`)).rows[0]?.n);

describe('a live rebuild of the tree projection', () => {
  let db: TestDatabase;
  let gateway: TestGateway;
  let dev: Device;
  let folderId: string;
  const reads = () => [`/v1/nodes/${folderId}`, `/v1/nodes/${dev.rootId}/children?limit=50`, `/v1/workspaces/${dev.workspaceId}`];
  const newFolder = (name: string) => api(gateway.url).post('/v1/folders', { workspaceId: dev.workspaceId, parentId: folderId, name }, dev.accessToken);

  beforeAll(async () => {
    db = await createTestDatabase();
    gateway = await startTestGateway(db, { settings: { rateLimits: { devicePerMinute: 1e6, workspacePerMinute: 1e6, addressPerMinute: 1e6 } } });
    dev = await loginDevice(gateway.url, newEmail());
    const folder = await api(gateway.url).post('/v1/folders', { workspaceId: dev.workspaceId, parentId: dev.rootId, name: 'live' }, dev.accessToken);
    folderId = folder.body.nodeId as string;
    // A log big enough that its build takes a while; the live tables are built from it first.
    for (let i = 0; i < 4; i++) await seedWorkspace(db, `seed${i}`, 8000);
    await rebuildLive(db.pool, treeProjection);
  });
  afterAll(async () => {
    await gateway.close();
    await db.drop();
  });

  describe('the switch, seen from the service', () => {
    it('answers reads while writers wait, and reads that arrive while the tables trade places are answered by the new ones', async () => {
      const http = api(gateway.url);
      const pausedReads: number[] = [];
      let swappedReads: Promise<{ status: number; body: Record<string, unknown> }>[] = [];
      let write: Promise<{ status: number }> | null = null;
      let writeDone = false;
      let writeDoneBeforeCommit: boolean | null = null;
      const before = await liveTableOids(db);

      await rebuildLive(db.pool, treeProjection, {
        whileSwitching: async (stage) => {
          if (stage === 'paused') {
            // Writers wait now: this commit must not get through before the switch commits.
            write = newFolder('during-switch').then((r) => {
              writeDone = true;
              return r;
            });
            await until('the write to wait for the switch', async () => (await lockWaiters(db)) >= 1, 10_000);
            // Reads are not blocked: each is answered while the switch holds its locks.
            for (const url of reads()) pausedReads.push((await http.get(url, dev.accessToken)).status);
            return;
          }
          // The tables have traded places, uncommitted: reads arriving now wait for the commit.
          swappedReads = reads().map((url) => http.get(url, dev.accessToken));
          await until('the reads to queue behind the swap', async () => (await lockWaiters(db)) >= 1 + reads().length, 10_000);
          writeDoneBeforeCommit = writeDone;
        },
      });

      expect(pausedReads).toEqual([200, 200, 200]);
      expect(writeDoneBeforeCommit).toBe(false);
      const answered = await Promise.all(swappedReads);
      expect(answered.map((r) => r.status)).toEqual([200, 200, 200]);
      expect((answered[1]?.body.items as Array<{ name: string }>).map((n) => n.name)).toContain('live');
      expect((await (write as unknown as Promise<{ status: number }>)).status).toBe(201);
      expect(await liveTableOids(db)).not.toEqual(before);
      expect((await verifyProjection(db.pool, treeProjection)).differences).toEqual([]);
    });
  });

  describe('a rebuild process killed (SIGKILL) half way', () => {
    it('during its build: the live tables keep serving, untouched, and the next rebuild starts over and succeeds', async () => {
      const before = await liveTableOids(db);
      const run = rebuildProcess(db);
      // The build has begun once its progress line is out; freeze the process there, then kill it.
      await until('the build to start', () => run.stderr().includes('rebuild tree: 0 /'));
      run.child.kill('SIGSTOP');
      expect(run.stderr()).not.toMatch(/building indexes/);
      expect(await schemas(db)).toContain('rm_rebuild_tree');
      run.child.kill('SIGKILL');
      await run.exited;
      await until('its sessions to end', async () => (await rebuildSessions(db)) === 0);

      expect(await liveTableOids(db)).toEqual(before);
      for (const url of reads()) expect((await api(gateway.url).get(url, dev.accessToken)).status).toBe(200);
      expect((await newFolder('after-build-crash')).status).toBe(201);
      expect((await verifyProjection(db.pool, treeProjection)).differences).toEqual([]);

      const again = rebuildProcess(db);
      expect(await again.exited).toBe(0);
      expect(await schemas(db)).toEqual(['rm']);
      expect(await liveTableOids(db)).not.toEqual(before);
      expect((await verifyProjection(db.pool, treeProjection)).differences).toEqual([]);
    });

    it('inside its switch: the switch never commits, the live tables stay, and the next rebuild succeeds', async () => {
      const before = await liveTableOids(db);
      // A long read holds rm.nodes, so the switch stops inside its transaction, at the swap of that table.
      const reader: pg.PoolClient = await db.pool.connect();
      let run: ReturnType<typeof rebuildProcess> | null = null;
      try {
        await reader.query('BEGIN');
        await reader.query('SELECT count(*) FROM rm.nodes');
        run = rebuildProcess(db);
        const waitingAtSwap = async () =>
          Number(
            (
              await db.pool.query<{ n: string }>(
                `SELECT count(*) AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = 'strata-cli' AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE rm.nodes SET SCHEMA%'`,
              )
            ).rows[0]?.n,
          ) > 0;
        await until('the switch to wait at the swap', waitingAtSwap);
        run.child.kill('SIGKILL');
        await run.exited;
      } finally {
        await reader.query('ROLLBACK');
        reader.release();
      }
      // Its session ends with the process: the transaction, swap included, is rolled back.
      await until('its sessions to end', async () => (await rebuildSessions(db)) === 0);
      expect(await liveTableOids(db)).toEqual(before);
      expect(await schemas(db)).toEqual(['rm', 'rm_rebuild_tree']);
      expect((await newFolder('after-switch-crash')).status).toBe(201);
      for (const url of reads()) expect((await api(gateway.url).get(url, dev.accessToken)).status).toBe(200);
      expect((await verifyProjection(db.pool, treeProjection)).differences).toEqual([]);

      const again = rebuildProcess(db);
      expect(await again.exited).toBe(0);
      expect(await schemas(db)).toEqual(['rm']);
      expect(await liveTableOids(db)).not.toEqual(before);
    });
  });
});
