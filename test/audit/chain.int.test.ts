import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postgresAuditSource } from '../../src/audit/postgres.js';
import { verifyChain } from '../../src/audit/verify.js';
import type { HandleCommand } from '../../src/commands/handle.js';
import type { WorkspaceEvent } from '../../src/domain/workspace/events.js';
import { ConcurrencyError } from '../../src/storage/eventlog/errors.js';
import { canonicalJson } from '../../src/storage/eventlog/hashChain.js';
import { createPostgresEventLog } from '../../src/storage/eventlog/postgres/index.js';
import { workspaceEventSchema, workspaceStreamId } from '../../src/storage/eventlog/workspaceSchema.js';
import { migrate } from '../../src/storage/postgres/migrate.js';
import { migrations } from '../../src/storage/postgres/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { chunkOf, commandsFor } from '../support/workspaceCommands.js';
import { newWorkspaceId, useWorkspaceDatabase } from '../support/workspaceHarness.js';
import { cli } from './support.js';

describe('the event hash chain', () => {
  let db: TestDatabase;
  let handle: HandleCommand;
  useWorkspaceDatabase((d, h) => ([db, handle] = [d, h]));

  const verify = (ws: string, extra: string[] = []) => cli(['audit', 'verify', '--workspace', ws, ...extra], { DATABASE_URL: db.url });

  /** A workspace with six events: created, a folder, two files, an edit, a move. */
  const sixEvents = async (): Promise<string> => {
    const ws = newWorkspaceId();
    const c = commandsFor(ws);
    for (const cmd of [
      c.createWorkspace(),
      c.createFolder('root', 'Docs', 'docs'),
      c.commitNew('docs', 'a.txt', [chunkOf('a')], 'fa'),
      c.commitNew('root', 'b.txt', [chunkOf('b')], 'fb'),
      c.move('fb', 'docs', 'b2.txt'),
      c.remove('fa'),
    ])
      expect(E.isRight(await handle(cmd))).toBe(true);
    return ws;
  };

  describe('canonical JSON', () => {
    const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { maxDepth: 3 },
        fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\u0000')),
        fc.maxSafeInteger(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value')),
        fc.dictionary(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\u0000')), tie('value')),
      ),
    })).value;

    it('is the same in Node and in the migration SQL that chained the events stored before it, for any JSON with integer numbers', async () => {
      await fc.assert(
        fc.asyncProperty(json, async (value) => {
          const { rows } = await db.pool.query<{ c: string }>('SELECT es_canonical_json($1::jsonb) AS c', [JSON.stringify(value)]);
          expect(rows[0]?.c).toBe(canonicalJson(value));
        }),
        { numRuns: 150 },
      );
    });

    it('sorts keys, drops whitespace and undefined members', () => {
      expect(canonicalJson({ b: [1, { d: true, c: null }], a: 'x\n"', u: undefined })).toBe('{"a":"x\\n\\"","b":[1,{"c":null,"d":true}]}');
    });

    it('orders by code point the keys an object keeps in another order: array-index-like ones, __proto__, surrogate pairs', () => {
      expect(canonicalJson({ 9: 'a', 10: 'b', x: { 2: 1, 1: [{ b: 1, a: 2 }] } })).toBe('{"10":"b","9":"a","x":{"1":[{"a":2,"b":1}],"2":1}}');
      expect(canonicalJson(JSON.parse('{"z":1,"__proto__":{"b":1,"a":2}}'))).toBe('{"__proto__":{"a":2,"b":1},"z":1}');
      expect(canonicalJson({ '\uff61': 1, '\u{1f600}': 2, a: 3 })).toBe('{"a":3,"\uff61":1,"\u{1f600}":2}');
      expect(canonicalJson({ at: new Date(0), n: [undefined, 1.5e-7] })).toBe('{"at":"1970-01-01T00:00:00.000Z","n":[null,1.5e-7]}');
      expect(() => canonicalJson(undefined)).toThrow(TypeError);
    });
  });

  describe('appends', () => {
    it('chain every event to the previous one of its stream, and the head is the last hash', async () => {
      const ws = await sixEvents();
      const report = await verifyChain(postgresAuditSource(db.pool, false), ws);
      expect(report).toMatchObject({ ok: true, events: 6, head: { cursor: 6 } });
      const { rows } = await db.pool.query<{ hash: string }>(
        `SELECT encode(hash, 'hex') AS hash FROM es_events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`,
        [workspaceStreamId(ws)],
      );
      expect(report.head?.headHash).toBe(rows[0]?.hash);
      const ok = await verify(ws);
      expect(ok.code).toBe(0);
      expect(ok.out.text).toMatch(/^ok: 6 events/);
    });

    it('stay one valid chain under concurrent writers of one workspace (the command path retries)', async () => {
      const ws = newWorkspaceId();
      const c = commandsFor(ws);
      expect(E.isRight(await handle(c.createWorkspace()))).toBe(true);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => handle(c.createFolder('root', `f${i}`, `n${i}`))));
      expect(results.every(E.isRight)).toBe(true);
      expect(await verifyChain(postgresAuditSource(db.pool, false), ws)).toMatchObject({ ok: true, events: 13 });
    });

    it('verify a live workspace up to the head it read first, whatever is appended meanwhile', async () => {
      const ws = await sixEvents();
      const c = commandsFor(ws);
      const writing = (async () => {
        for (let i = 0; i < 15; i++) await handle(c.createFolder('root', `live${i}`));
      })();
      const reports = [];
      for (let i = 0; i < 5; i++) reports.push(await verifyChain(postgresAuditSource(db.pool, false), ws, { pageSize: 2 }));
      await writing;
      expect(reports.every((r) => r.ok)).toBe(true);
    });

    it('let exactly one of many writers at one version win, and the winner chains', async () => {
      const log = createPostgresEventLog(db.pool, workspaceEventSchema);
      const ws = newWorkspaceId();
      const event = (name: string) => ({
        eventId: crypto.randomUUID(),
        event: { type: 'FolderCreated', data: { nodeId: name, parentId: 'root', name } } as WorkspaceEvent,
        schemaVersion: 1,
        metadata: { at: '2026-01-01T00:00:00.000Z', userId: 'u1', deviceId: null, correlationId: 'c', causationId: null } as never,
      });
      const created = {
        eventId: crypto.randomUUID(),
        event: { type: 'WorkspaceCreated', data: { workspaceId: ws, rootId: 'root', ownerId: 'u1', quotaBytes: 100 } } as WorkspaceEvent,
        schemaVersion: 1,
        metadata: event('x').metadata,
      };
      await log.append(workspaceStreamId(ws), 0, [created]);
      const racers = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => log.append(workspaceStreamId(ws), 1, [event(`a${i}`), event(`b${i}`)])));
      expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(racers.filter((r) => r.status === 'rejected' && r.reason instanceof ConcurrencyError)).toHaveLength(7);
      expect(await verifyChain(postgresAuditSource(db.pool, false), ws)).toMatchObject({ ok: true, events: 3 });
    });
  });

  describe('a stored history altered with SQL', () => {
    const at = async (ws: string, sql: string) => db.pool.query(sql, [workspaceStreamId(ws)]);
    const cases: Array<[string, string, RegExp]> = [
      ['data', `UPDATE es_events SET data = jsonb_set(data, '{name}', '"evil.txt"') WHERE stream_id = $1 AND stream_version = 3`, /event 3 \(FileVersionCommitted\) was altered/],
      ['metadata', `UPDATE es_events SET metadata = jsonb_set(metadata, '{userId}', '"mallory"') WHERE stream_id = $1 AND stream_version = 4`, /event 4 .* was altered/],
      ['type', `UPDATE es_events SET type = 'FolderCreated' WHERE stream_id = $1 AND stream_version = 5`, /event 5 \(FolderCreated\) was altered/],
      ['a deleted event', `DELETE FROM es_events WHERE stream_id = $1 AND stream_version = 3`, /event 3 is missing/],
      ['a deleted last event', `DELETE FROM es_events WHERE stream_id = $1 AND stream_version = 6`, /events 6 to 6 are missing/],
      [
        'two events swapped',
        `UPDATE es_events SET stream_version = -2 WHERE stream_id = $1 AND stream_version = 2;
         UPDATE es_events SET stream_version = 2 WHERE stream_id = $1 AND stream_version = 4;
         UPDATE es_events SET stream_version = 4 WHERE stream_id = $1 AND stream_version = -2`,
        /event 2 .* was altered/,
      ],
    ];
    for (const [what, sql, message] of cases)
      it(`is reported at the first event it changed: ${what}`, async () => {
        const ws = await sixEvents();
        if (sql.includes(';')) for (const statement of sql.split(';')) await at(ws, statement);
        else await at(ws, sql);
        const r = await verify(ws);
        expect(r.code).toBe(1);
        expect(r.out.text).toMatch(/^ALTERED/);
        expect(r.out.text).toMatch(message);
      });

    it('is not reported when only the stored form changes (jsonb rewrites keys in its own order)', async () => {
      const ws = await sixEvents();
      await at(ws, `UPDATE es_events SET data = data || '{}'::jsonb, metadata = (metadata::text)::jsonb WHERE stream_id = $1`);
      expect((await verify(ws)).code).toBe(0);
    });

    it('rewritten with all its hashes recomputed, passes alone but not against a head pinned before', async () => {
      const ws = await sixEvents();
      const head = (await verify(ws, ['--json'])).out.text;
      const pinned = JSON.parse(head) as { head: { cursor: number; headHash: string } };
      await at(ws, `UPDATE es_events SET data = jsonb_set(data, '{name}', '"forged.txt"') WHERE stream_id = $1 AND stream_version = 3`);
      // Whoever holds the database can re-hash everything after the change (with the migration's own function).
      await db.pool.query(
        `DO $$ DECLARE r record; prev bytea := decode(repeat('00', 32), 'hex'); BEGIN
           FOR r IN SELECT * FROM es_events WHERE stream_id = '${workspaceStreamId(ws)}' ORDER BY stream_version LOOP
             prev := sha256(prev || convert_to(es_canonical_event(r.stream_id, r.stream_version, r.event_id, r.type, r.schema_version, r.data, r.metadata), 'UTF8'));
             UPDATE es_events SET hash = prev WHERE global_position = r.global_position;
           END LOOP;
           UPDATE es_streams SET head_hash = prev WHERE stream_id = '${workspaceStreamId(ws)}';
         END $$`,
      );
      expect((await verify(ws)).code).toBe(0);
      const r = await verify(ws, ['--pin', `${pinned.head.cursor}:${pinned.head.headHash}`]);
      expect(r.code).toBe(1);
      expect(r.out.text).toMatch(/event 6 hashes to .* but .* was recorded for it earlier/);
    });
  });

  describe('events stored before the chain existed', () => {
    it('are chained by the migration, and appends after it continue the chain', async () => {
      const old = await createTestDatabase({ migrate: false });
      try {
        await migrate(old.pool, migrations.slice(0, 5));
        const ws = 'wold';
        const meta = `'{"at":"2025-06-01T00:00:00.000Z","userId":"u1","deviceId":null,"correlationId":"c","causationId":null}'`;
        await old.pool.query(
          `INSERT INTO es_streams (stream_id, version) VALUES ('workspace-${ws}', 2);
           INSERT INTO es_events (stream_id, stream_version, event_id, type, schema_version, data, metadata) VALUES
           ('workspace-${ws}', 1, gen_random_uuid(), 'WorkspaceCreated', 1, '{"workspaceId":"${ws}","rootId":"root","ownerId":"u1","quotaBytes":1000}', ${meta}),
           ('workspace-${ws}', 2, gen_random_uuid(), 'FolderCreated', 1, '{"nodeId":"n1","parentId":"root","name":"caf\u00e9 \\"quoted\\""}', ${meta})`,
        );
        await migrate(old.pool);
        expect(await verifyChain(postgresAuditSource(old.pool, false), ws)).toMatchObject({ ok: true, events: 2 });
        await createPostgresEventLog(old.pool, workspaceEventSchema).append(workspaceStreamId(ws), 2, [{
          eventId: crypto.randomUUID(),
          event: { type: 'FolderCreated', data: { nodeId: 'n2', parentId: 'root', name: 'after' } } as WorkspaceEvent,
          schemaVersion: 1,
          metadata: { at: '2026-01-01T00:00:00.000Z', userId: 'u1', deviceId: null, correlationId: 'c', causationId: null } as never,
        }]);
        expect(await verifyChain(postgresAuditSource(old.pool, false), ws)).toMatchObject({ ok: true, events: 3 });
      } finally {
        await old.drop();
      }
    });
  });
});
