import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandleCommand } from '../../src/commands/handle.js';
import { decide } from '../../src/domain/workspace/decide.js';
import type { WorkspaceEvent } from '../../src/domain/workspace/events.js';
import { evolve } from '../../src/domain/workspace/evolve.js';
import { initialState, type WorkspaceState } from '../../src/domain/workspace/state.js';
import { rebuildLive } from '../../src/projections/admin/rebuildLive.js';
import { createBareShadow } from '../../src/projections/admin/shadow.js';
import { projectionStatuses } from '../../src/projections/admin/status.js';
import { verifyProjection } from '../../src/projections/admin/verify.js';
import { bulkBuildTree } from '../../src/projections/bulk/build.js';
import { compareProjectionTables } from '../../src/projections/rebuild.js';
import { treeProjection } from '../../src/projections/registry.js';
import { createPostgresEventLog } from '../../src/storage/eventlog/postgres/index.js';
import { workspaceEventSchema, workspaceStreamId } from '../../src/storage/eventlog/workspaceSchema.js';
import { cli } from '../audit/support.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { loginDevice, newEmail, type Device } from '../support/devices.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway.js';
import { commandsFor, interpret, recipeArb } from '../support/workspaceCommands.js';
import { handlerFor, newWorkspaceId } from '../support/workspaceHarness.js';

/** Random histories on a few workspaces, through the real command path. */
const populate = async (handle: HandleCommand, workspaces: number, steps: number, seed: number): Promise<string[]> => {
  const ids: string[] = [];
  const samples = fc.sample(fc.array(recipeArb, { minLength: steps, maxLength: steps }), { numRuns: workspaces, seed });
  for (const recipes of samples) {
    const ws = newWorkspaceId();
    ids.push(ws);
    const c = commandsFor(ws);
    let state: WorkspaceState = initialState();
    for (const step of [c.createWorkspace(), ...recipes]) {
      const command = 'op' in step ? interpret(c, state, step) : step;
      if (command === null) continue;
      const decision = decide(command, state);
      await handle(command);
      if (E.isRight(decision)) for (const e of decision.right) state = evolve(state, e);
    }
  }
  return ids;
};

/** The live tables equal a fold of the whole log, built fresh now. */
const expectLiveEqualsLog = async (db: TestDatabase) => {
  await createBareShadow(db.pool, treeProjection, 'rm', 'rm_check');
  await bulkBuildTree(db.pool, 'rm_check');
  expect(await compareProjectionTables(db.pool, treeProjection, 'rm', 'rm_check')).toEqual([]);
  await db.pool.query('DROP SCHEMA rm_check CASCADE');
};

const schemas = async (db: TestDatabase): Promise<string[]> =>
  (await db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm%' ORDER BY nspname`)).rows.map((r) => r.nspname);

describe('projection administration', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  let gateway: TestGateway;
  let dev: Device;
  beforeAll(async () => {
    db = await createTestDatabase();
    handle = handlerFor(db);
    // Budgets out of the way: the loops below call as fast as the server answers.
    gateway = await startTestGateway(db, { settings: { rateLimits: { devicePerMinute: 1e6, workspacePerMinute: 1e6, addressPerMinute: 1e6 } } });
    dev = await loginDevice(gateway.url, newEmail());
    await populate(handle, 6, 25, 11);
  });
  afterAll(async () => {
    await gateway.close();
    await db.drop();
  });

  describe('a rebuild while the service takes reads and writes', () => {
    it('never fails a request, switches to tables equal to the log, and keeps names, constraints and triggers', async () => {
      const http = api(gateway.url);
      const failures: string[] = [];
      let reads = 0;
      let writes = 0;
      let running = true;
      const folder = await http.post('/v1/folders', { workspaceId: dev.workspaceId, parentId: dev.rootId, name: 'live' }, dev.accessToken);
      expect(folder.status).toBe(201);
      const folderId = folder.body.nodeId as string;
      const readLoop = async () => {
        while (running) {
          for (const url of [`/v1/nodes/${folderId}`, `/v1/nodes/${dev.rootId}/children?limit=50`, `/v1/workspaces/${dev.workspaceId}`]) {
            const r = await http.get(url, dev.accessToken);
            reads++;
            if (r.status !== 200) failures.push(`GET ${url}: ${r.status} ${JSON.stringify(r.body)}`);
          }
        }
      };
      const writeLoop = async (prefix: string) => {
        for (let i = 0; running; i++) {
          const r = await http.post('/v1/folders', { workspaceId: dev.workspaceId, parentId: folderId, name: `${prefix}${i}` }, dev.accessToken);
          writes++;
          if (r.status !== 201) failures.push(`POST /v1/folders: ${r.status} ${JSON.stringify(r.body)}`);
        }
      };
      const loops = [readLoop(), readLoop(), writeLoop('a'), writeLoop('b')];
      try {
        await new Promise((r) => setTimeout(r, 150));
        const writesBefore = writes;
        const first = await rebuildLive(db.pool, treeProjection, { switchBelow: 5 });
        const second = await rebuildLive(db.pool, treeProjection, { switchBelow: 5 });
        expect(first.built + second.built).toBeGreaterThan(0);
        expect(writes).toBeGreaterThan(writesBefore);
        // Reads and writes go on against the switched tables (sessions' prepared statements re-resolve).
        const after = writes;
        while (writes < after + 5) await new Promise((r) => setTimeout(r, 20));
      } finally {
        running = false;
        await Promise.all(loops);
      }
      expect(failures).toEqual([]);
      expect(reads).toBeGreaterThan(0);
      await expectLiveEqualsLog(db);
      expect(await schemas(db)).toEqual(['rm']);
      // The same index and constraint names: a sibling clash is still a name_conflict, not a crash.
      const clash = await http.post('/v1/folders', { workspaceId: dev.workspaceId, parentId: dev.rootId, name: 'LIVE' }, dev.accessToken);
      expect(clash.body.error?.code).toBe('name_conflict');
      const triggers = await db.pool.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'rm.chunk_refs'::regclass AND NOT tgisinternal`);
      const liveIndexes = await db.pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'rm' ORDER BY indexname`);
      expect(liveIndexes.rows.map((r) => r.indexname)).toEqual(expect.arrayContaining(['nodes_live_name', 'nodes_pkey', 'versions_by_node', 'chunk_refs_by_hash', 'trash_by_time']));
      const fresh = await createTestDatabase();
      try {
        const migratedTriggers = await fresh.pool.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'rm.chunk_refs'::regclass AND NOT tgisinternal`);
        expect(triggers.rows).toEqual(migratedTriggers.rows);
      } finally {
        await fresh.drop();
      }
    });
  });

  describe('a rebuild that stops half way', () => {
    it('leaves the live tables serving, and the next rebuild starts over and succeeds', async () => {
      const before = await verifyProjection(db.pool, treeProjection);
      expect(before.differences).toEqual([]);
      for (const stopAt of ['build', 'indexes', 'catch-up'] as const) {
        const abort = new AbortController();
        const run = rebuildLive(db.pool, treeProjection, {
          signal: abort.signal,
          switchBelow: -1,
          onProgress: (p) => {
            if (p.phase === stopAt) abort.abort(new Error(`killed during ${stopAt}`));
            // Writes keep coming meanwhile.
            if (p.phase === 'indexes') void handle(commandsFor(dev.workspaceId, dev.userId).createFolder(dev.rootId, `x${crypto.randomUUID()}`));
          },
        });
        await expect(run).rejects.toThrow(/killed during/);
        expect(await schemas(db)).toContain('rm_rebuild_tree');
        expect((await api(gateway.url).get(`/v1/nodes/${dev.rootId}`, dev.accessToken)).status).toBe(200);
        expect((await verifyProjection(db.pool, treeProjection)).differences).toEqual([]);
      }
      const again = await cli(['admin', 'projections', 'rebuild', 'tree'], { DATABASE_URL: db.url });
      expect(again.err.text).toMatch(/rebuild tree:/);
      expect(again.code).toBe(0);
      expect(again.out.text).toMatch(/^rebuilt tree: \d+ events folded/);
      expect(await schemas(db)).toEqual(['rm']);
      await expectLiveEqualsLog(db);
    });

    it('rolls the switch back when it cannot get its locks in time, and the service is untouched', async () => {
      const reader = await db.pool.connect();
      try {
        await reader.query('BEGIN');
        await reader.query('SELECT count(*) FROM rm.nodes');
        await expect(rebuildLive(db.pool, treeProjection, { lockTimeoutMs: 100, switchAttempts: 2 })).rejects.toThrow(/lock timeout/);
      } finally {
        await reader.query('ROLLBACK');
        reader.release();
      }
      expect((await api(gateway.url).get(`/v1/workspaces/${dev.workspaceId}`, dev.accessToken)).status).toBe(200);
      expect(await schemas(db)).toContain('rm');
      await rebuildLive(db.pool, treeProjection);
      await expectLiveEqualsLog(db);
    });

    it('refuses to run twice at once', async () => {
      const both = await Promise.allSettled([rebuildLive(db.pool, treeProjection), rebuildLive(db.pool, treeProjection)]);
      expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { message: expect.stringMatching(/already running/) } });
    });
  });

  describe('admin verify', () => {
    it('reports no differences, then the workspace and table of a corrupted row, until a rebuild repairs it', async () => {
      const env = { DATABASE_URL: db.url };
      const clean = await cli(['admin', 'verify'], env);
      expect(clean.out.text).toMatch(/no differences/);
      expect(clean.code).toBe(0);
      expect((await cli(['admin', 'verify', '--sample', '2'], env)).code).toBe(0);
      await db.pool.query(`UPDATE rm.nodes SET name = 'corrupted' WHERE workspace_id = $1 AND node_id = $2`, [dev.workspaceId, dev.rootId]);
      await db.pool.query(`UPDATE rm.workspaces SET used_bytes = used_bytes + 1 WHERE workspace_id = $1`, [dev.workspaceId]);
      const dirty = await cli(['admin', 'verify', '--json'], env);
      expect(dirty.code).toBe(1);
      const report = JSON.parse(dirty.out.lines[0] as string) as { differences: Array<{ workspaceId: string; table: string }> };
      expect(report.differences).toEqual([
        expect.objectContaining({ workspaceId: dev.workspaceId, table: 'workspaces', onlyInProjection: 1, onlyInLog: 1 }),
        expect.objectContaining({ workspaceId: dev.workspaceId, table: 'nodes', onlyInProjection: 1, onlyInLog: 1 }),
      ]);
      expect((await cli(['admin', 'verify', '--sample', '100'], env)).code).toBe(1);
      expect((await cli(['admin', 'projections', 'rebuild', 'tree'], env)).code).toBe(0);
      expect((await cli(['admin', 'verify'], env)).code).toBe(0);
    });
  });

  describe('admin projections list', () => {
    it('shows the checkpoint at the newest event and no lag, and the lag of events the tables have not applied', async () => {
      const env = { DATABASE_URL: db.url };
      const list = async () => JSON.parse((await cli(['admin', 'projections', 'list', '--json'], env)).out.text) as Awaited<ReturnType<typeof projectionStatuses>>;
      const newest = async () => Number((await db.pool.query<{ p: string }>('SELECT max(global_position) AS p FROM es_events')).rows[0]?.p);
      expect(await list()).toEqual([{ name: 'tree', mode: 'inline', checkpoint: await newest(), newest: await newest(), lag: 0, laggingWorkspaces: 0 }]);
      // Events appended without their inline projection (as by a writer that bypassed it) show as lag.
      const log = createPostgresEventLog(db.pool, workspaceEventSchema);
      const stream = workspaceStreamId(dev.workspaceId);
      const version = await log.streamVersion(stream);
      const folder = (name: string) => ({
        eventId: crypto.randomUUID(),
        event: { type: 'FolderCreated', data: { nodeId: name, parentId: dev.rootId, name } } as WorkspaceEvent,
        schemaVersion: 1,
        metadata: { at: new Date().toISOString(), userId: dev.userId, deviceId: null, correlationId: 'c', causationId: null } as never,
      });
      const appended = await log.append(stream, version, [folder('bypass1'), folder('bypass2')]);
      const first = Number(appended.events[0]?.position.globalPosition);
      expect(await list()).toEqual([{ name: 'tree', mode: 'inline', checkpoint: first - 1, newest: await newest(), lag: 2, laggingWorkspaces: 1 }]);
      const text = await cli(['admin', 'projections', 'list'], env);
      expect(text.out.lines[1]).toMatch(/^tree\tinline\t\d+\t\d+\t2\t1$/);
      // A rebuild applies them: zero lag again.
      expect((await cli(['admin', 'projections', 'rebuild', 'tree'], env)).code).toBe(0);
      expect((await list())[0]).toMatchObject({ lag: 0, checkpoint: await newest() });
    });
  });
});
