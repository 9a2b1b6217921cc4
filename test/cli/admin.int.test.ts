import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import type { IsoTimestamp, UserId } from '../../src/domain/ids.js';
import type { WorkspaceCommand } from '../../src/domain/workspace/commands.js';
import { createFilesystemBlobStore } from '../../src/storage/blobs/filesystem.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { commandsFor, sha256 } from '../support/workspaceCommands.js';
import { handlerFor } from '../support/workspaceHarness.js';

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** What a terminal is to cli-progress: a stream that says it is a TTY, and its width. */
class Terminal extends Captured {
  readonly isTTY = true;
  readonly columns = 200;
}

/** `strata ...` in process, output captured (stderr as a terminal's when interactive). */
const strata = async (argv: readonly string[], env: Record<string, string | undefined> = {}, interactive = false) => {
  const out = new Captured();
  const err = interactive ? new Terminal() : new Captured();
  const io: CliIo = { out, err, env, interactive };
  const code = await runCli(argv, io);
  return { code, out: out.text, err: err.text };
};

const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString() as IsoTimestamp;

describe('strata admin purge and gc, against a real database and blob store', () => {
  let db: TestDatabase;
  let dataDir: string;

  /** Runs commands as if made `days` ago. */
  const run = async (command: WorkspaceCommand, days: number) => {
    const result = await handlerFor(db)({ ...command, metadata: { ...command.metadata, now: daysAgo(days), userId: 'u1' as UserId } });
    if (E.isLeft(result)) throw new Error(`${command.type}: ${result.left.code}`);
  };
  const count = async (sql: string) => Number((await db.pool.query<{ n: string }>(sql)).rows[0]?.n);

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-admin-'));
    const c = commandsFor('wadmin');
    await run(c.createWorkspace('root'), 60);
    await run(c.commitNew('root', 'f.txt', [{ hash: sha256('v1'), size: 2 } as never], 'f'), 60);
    // Version ids of commandsFor count from v1.
    await run(c.commitEdit({ fileId: 'f', parentId: 'root', name: 'f.txt' }, 'v1', [{ hash: sha256('v2'), size: 20 } as never]), 50);
    await run(c.commitEdit({ fileId: 'f', parentId: 'root', name: 'f.txt' }, 'v2', [{ hash: sha256('v3'), size: 30 } as never]), 1);
    await run(c.createFolder('root', 'Old', 'old'), 45);
    await run(c.remove('old'), 40);
    await run(c.createFolder('root', 'Recent', 'recent'), 10);
    await run(c.remove('recent'), 5);
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('admin purge --dry-run lists what is past retention and changes nothing', async () => {
    const events = await count('SELECT count(*) AS n FROM es_events');
    const r = await strata(['admin', 'purge', '--dry-run', '--database-url', db.url]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trash +wadmin \/Old \(folder, deleted /);
    expect(r.out).toMatch(/versions +wadmin \/f\.txt \(file f\): 1 old version\(s\), 2 B/);
    expect(r.out).toMatch(/would purge 1 trashed item\(s\) and 1 old version\(s\)/);
    expect(await count('SELECT count(*) AS n FROM es_events')).toBe(events);
    const json = JSON.parse((await strata(['admin', 'purge', '--dry-run', '--json'], { DATABASE_URL: db.url })).out);
    expect(json).toMatchObject({ dryRun: true, trashPurged: 1, versionsPurged: 1, bytes: 2, skipped: 0 });
    const longer = JSON.parse((await strata(['admin', 'purge', '--dry-run', '--json', '--retention-days', '0', '--database-url', db.url])).out);
    expect(longer).toMatchObject({ trashPurged: 2, versionsPurged: 2 });
  });

  it('admin purge purges them with events, reports it, and has nothing left to do after', async () => {
    const r = await strata(['admin', 'purge', '--database-url', db.url]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^purged 1 trashed item\(s\) and 1 old version\(s\), 2 B of file versions/);
    expect(r.err).toMatch(/purging: 2 \/ 2 files/);
    expect(await count("SELECT count(*) AS n FROM rm.trash WHERE workspace_id = 'wadmin'")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM rm.versions WHERE workspace_id = 'wadmin' AND purged_at IS NOT NULL")).toBe(1);
    expect(await count("SELECT count(*) AS n FROM es_events WHERE type = 'NodePurged' AND metadata->>'userId' = 'strata-retention'")).toBe(2);
    const again = JSON.parse((await strata(['admin', 'purge', '--json', '--database-url', db.url])).out);
    expect(again).toMatchObject({ dryRun: false, trashPurged: 0, versionsPurged: 0 });
  });

  it('admin gc deletes the unreferenced chunk of the blob store the server uses, and reports the bytes freed', async () => {
    const blobs = await createFilesystemBlobStore({ root: path.join(dataDir, 'blobs') });
    const kept = Buffer.from('v3 bytes, referenced by the latest version'.padEnd(30).slice(0, 30));
    const stored = { garbage: Buffer.from('nobody uses these bytes'), held: Buffer.from('uploaded an hour ago, not committed yet') };
    for (const bytes of [kept, stored.garbage, stored.held]) expect((await blobs.put(sha256(bytes), bytes)).ok).toBe(true);
    // The latest version references sha256('v3') in this test's history: make the kept chunk that one.
    await db.pool.query("UPDATE rm.chunk_refs SET hash = $1 WHERE workspace_id = 'wadmin' AND hash = $2", [sha256(kept), sha256('v3')]);
    await db.pool.query("INSERT INTO workspace_chunks (workspace_id, hash, size, verified_at) VALUES ('wadmin', $1, $2, now() - interval '1 hour')", [sha256(stored.held), stored.held.length]);
    // Stored two hours ago: past the grace period.
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const bytes of [kept, stored.garbage, stored.held]) {
      const h = sha256(bytes);
      fs.utimesSync(path.join(dataDir, 'blobs', 'chunks', h.slice(0, 2), h.slice(2, 4), h), twoHoursAgo, twoHoursAgo);
    }
    const env = { DATABASE_URL: db.url, STRATA_DATA_DIR: dataDir };
    const dry = await strata(['admin', 'gc', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.out).toBe(`scanned 3 chunk(s), ${kept.length + stored.garbage.length + stored.held.length} B; would delete 1 unreferenced chunk(s), freeing ${stored.garbage.length} B\n`);
    expect(await blobs.stat(sha256(stored.garbage))).not.toBeNull();
    const real = JSON.parse((await strata(['admin', 'gc', '--json'], env)).out);
    expect(real).toMatchObject({ dryRun: false, scannedChunks: 3, deletedChunks: 1, freedBytes: stored.garbage.length });
    expect(await blobs.stat(sha256(stored.garbage))).toBeNull();
    expect(await blobs.stat(sha256(kept))).not.toBeNull();
    expect(await blobs.stat(sha256(stored.held))).not.toBeNull();
    expect((await strata(['admin', 'gc'], env)).out).toMatch(/deleted 0 unreferenced chunk\(s\), freed 0 B/);
  });

  it('counts a trashed file once, with its old versions, in the dry run as in the purge', async () => {
    const c = commandsFor('wtrashed');
    await run(c.createWorkspace('root'), 90);
    await run(c.createFolder('root', 'Reports', 'reports'), 90);
    await run(c.commitNew('reports', 'q1.pdf', [{ hash: sha256('q1 draft'), size: 100 } as never], 'q1'), 90);
    await run(c.commitEdit({ fileId: 'q1', parentId: 'reports', name: 'q1.pdf' }, 'v1', [{ hash: sha256('q1 final'), size: 7 } as never]), 80);
    await run(c.remove('reports'), 70);
    const dry = await strata(['admin', 'purge', '--dry-run', '--database-url', db.url]);
    expect(dry.out).toMatch(/trash +wtrashed \/Reports \(folder, deleted .*, 107 B\)/);
    expect(dry.out).not.toMatch(/versions +wtrashed/);
    const planned = JSON.parse((await strata(['admin', 'purge', '--dry-run', '--json', '--database-url', db.url])).out) as Record<string, unknown>;
    expect(planned).toMatchObject({ trashPurged: 1, versionsPurged: 0, bytes: 107, skipped: 0 });
    const done = JSON.parse((await strata(['admin', 'purge', '--json', '--database-url', db.url])).out) as Record<string, unknown>;
    expect({ ...done, dryRun: true, cutoff: planned.cutoff }).toEqual(planned);
    expect(await count("SELECT count(*) AS n FROM rm.versions WHERE workspace_id = 'wtrashed' AND purged_at IS NULL")).toBe(0);
  });

  it('admin projections rebuild shows a progress bar with events/s and the time left on a terminal, then the phases', async () => {
    const events = await count('SELECT count(*) AS n FROM es_events');
    const r = await strata(['admin', 'projections', 'rebuild', 'tree', '--database-url', db.url], {}, true);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex
    const screen = r.err.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, '\n');
    expect(screen).toMatch(new RegExp(`rebuild tree \\[[^\\]]+\\] 100% \\| ${events}/${events} \\| \\d+/s \\| eta \\d+s`));
    expect(screen).toMatch(/building indexes[\s\S]*switching to the new tables/);
    expect(r.out).toMatch(new RegExp(`^rebuilt tree: ${events} events folded`));
  });

  it('says what is missing instead of guessing a database', async () => {
    const r = await strata(['admin', 'gc'], { STRATA_DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no database: give --database-url or set DATABASE_URL/);
    expect((await strata(['admin', 'purge', '--retention-days', 'soon', '--database-url', db.url])).code).toBe(2);
    expect((await strata(['--help'])).out).toMatch(/admin purge[\s\S]*admin gc/);
  });
});
