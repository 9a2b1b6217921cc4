import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/storage/postgres/embedded.js';
import { migrate } from '../../src/storage/postgres/migrate.js';
import type { TestDatabase } from '../support/db.js';
import { commandsFor } from '../support/workspaceCommands.js';
import { handlerFor } from '../support/workspaceHarness.js';
import { cli } from './support.js';

describe('the audit and admin commands next to a server on the embedded Postgres (npm start, no DATABASE_URL)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-embedded-cli-'));
  fs.chmodSync(dataDir, 0o755);
  let embedded: EmbeddedPostgresHandle | null = null;
  let pool: pg.Pool;
  // Where and how src/main.ts starts it: the cluster in STRATA_DATA_DIR/pg, a free port, database "strata".
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port: 0, database: 'strata' });
    pool = new pg.Pool({ connectionString: embedded.url, max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    const db: TestDatabase = { url: embedded.url, pool, drop: async () => undefined };
    const c = commandsFor('wembedded');
    for (const cmd of [c.createWorkspace(), c.createFolder('root', 'Docs', 'docs')]) expect(E.isRight(await handlerFor(db)(cmd))).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await embedded?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('find its database on STRATA_DATA_DIR without being given a URL', async () => {
    const env = { STRATA_DATA_DIR: dataDir };
    const verified = await cli(['audit', 'verify', '--workspace', 'wembedded'], env);
    expect([verified.code, verified.out.text]).toEqual([0, expect.stringMatching(/^ok: 2 events/)]);
    const log = await cli(['audit', 'log', '--workspace', 'wembedded', '--json'], env);
    expect(log.out.lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/', '/Docs']);
    const list = await cli(['admin', 'projections', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out.text)).toEqual([expect.objectContaining({ name: 'tree', lag: 0 })]);
    expect((await cli(['admin', 'verify'], env)).code).toBe(0);
  });

  it('say where they looked once it has stopped, and that it does not answer after a crash', async () => {
    await embedded?.stop();
    embedded = null;
    const stopped = await cli(['audit', 'verify', '--workspace', 'wembedded'], { STRATA_DATA_DIR: dataDir });
    // A clean stop removes postmaster.pid: nothing runs there any more.
    expect([stopped.code, stopped.err.text]).toEqual([2, expect.stringContaining(`run this where the server's embedded Postgres runs (STRATA_DATA_DIR, here ${dataDir})`)]);
    // A crash leaves it behind, naming a port nothing listens on now.
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    fs.writeFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), `4242\n${path.join(dataDir, 'pg')}\n1700000000\n${port}\n\n127.0.0.1\n`);
    const crashed = await cli(['admin', 'projections', 'list'], { STRATA_DATA_DIR: dataDir });
    expect([crashed.code, crashed.err.text]).toEqual([4, expect.stringMatching(/cannot reach the database or server: .*ECONNREFUSED/)]);
  });
});
