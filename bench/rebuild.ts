import crypto from 'node:crypto';
import pg from 'pg';
import { EVENT_SCHEMA_VERSION, type WorkspaceEventType } from '../src/domain/workspace/events.js';
import { rebuildLive } from '../src/projections/admin/rebuildLive.js';
import { addLiveIndexes, addLiveTriggers, analyzeShadow, createBareShadow } from '../src/projections/admin/shadow.js';
import { bulkBuildTree, bulkReadLog } from '../src/projections/bulk/build.js';
import { copyIn, copyLine } from '../src/projections/bulk/copyIn.js';
import { treeProjection } from '../src/projections/registry.js';
import { GENESIS_HASH, canonicalEvent, chainHash } from '../src/storage/eventlog/hashChain.js';
import { workspaceStreamId } from '../src/storage/eventlog/workspaceSchema.js';
import { migrate } from '../src/storage/postgres/migrate.js';
import { benchDatabase, fmt, machine } from './support.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** An event as the log stores it; built as plain data, only ever written, never decided on. */
interface SimEvent {
  type: WorkspaceEventType;
  data: object;
}
interface SimVersion {
  id: string;
  size: number;
  chunks: { hash: string; size: number }[];
}
interface SimFile {
  parentId: string;
  name: string;
  versions: SimVersion[];
}

/**
 * One workspace's plausible history, event by event: folders, new files, edits, moves, deletes,
 * undeletes, version restores and purges, always valid (unique names, live targets), so the log is
 * one the real command path could have written.
 */
class WorkspaceSim {
  private n = 0;
  private readonly folders: string[] = [];
  private readonly files = new Map<string, SimFile>();
  private readonly trashedFiles = new Map<string, SimFile>();
  private readonly trashed: string[] = [];
  private readonly purgeable: string[] = [];
  version = 0;
  head = GENESIS_HASH;
  private clock: number;

  constructor(readonly id: string, private readonly random: () => number) {
    this.clock = Date.parse('2026-01-01T00:00:00.000Z') + Math.floor(random() * 1e9);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private version_(nodeId: string): SimVersion {
    const chunks = Array.from({ length: 1 + Math.floor(this.random() * 3) }, (_, i) => ({ hash: sha(`${this.id}:${nodeId}:${this.n}:${i}`), size: 1 + Math.floor(this.random() * 4_000_000) }));
    return { id: `v${this.n}`, size: chunks.reduce((s, c) => s + c.size, 0), chunks };
  }

  next(): SimEvent {
    this.n++;
    if (this.n === 1) {
      this.folders.push('root');
      return { type: 'WorkspaceCreated', data: { workspaceId: this.id, rootId: 'root', ownerId: `u${this.id}`, quotaBytes: 2 ** 50 } };
    }
    const name = `name-${this.n}.dat`;
    const liveFiles = [...this.files.keys()];
    // Until there are a few files, only folders and new files.
    const r = liveFiles.length < 3 ? this.random() * 0.4 : this.random();
    if (r < 0.1) {
      const nodeId = `d${this.n}`;
      const parentId = this.pick(this.folders);
      this.folders.push(nodeId);
      return { type: 'FolderCreated', data: { nodeId, parentId, name } };
    }
    if (r < 0.4) {
      const nodeId = `f${this.n}`;
      const parentId = this.pick(this.folders);
      const v = this.version_(nodeId);
      this.files.set(nodeId, { parentId, name, versions: [v] });
      return this.versionEvent('FileVersionCommitted', nodeId, v, { baseVersionId: null, created: true });
    }
    const fileId = this.pick(liveFiles);
    const file = this.files.get(fileId) as SimFile;
    if (r < 0.72) {
      const v = this.version_(fileId);
      const base = file.versions[file.versions.length - 1]?.id ?? null;
      file.versions.push(v);
      return this.versionEvent('FileVersionCommitted', fileId, v, { baseVersionId: base, created: false });
    }
    if (r < 0.8) {
      const from = { parentId: file.parentId, name: file.name };
      file.parentId = this.pick(this.folders);
      file.name = name;
      return { type: 'NodeMoved', data: { nodeId: fileId, kind: 'file', fromParentId: from.parentId, fromName: from.name, parentId: file.parentId, name } };
    }
    if (r < 0.86) {
      this.files.delete(fileId);
      this.trashed.push(fileId);
      this.trashedFiles.set(fileId, file);
      return { type: 'NodeDeleted', data: { nodeId: fileId, kind: 'file', parentId: file.parentId, name: file.name } };
    }
    if (r < 0.9 && this.trashed.length > 0) {
      const nodeId = this.trashed.splice(Math.floor(this.random() * this.trashed.length), 1)[0] as string;
      const back = this.trashedFiles.get(nodeId) as SimFile;
      this.trashedFiles.delete(nodeId);
      back.parentId = 'root';
      back.name = name;
      this.files.set(nodeId, back);
      return { type: 'NodeRestored', data: { nodeId, kind: 'file', parentId: 'root', name } };
    }
    if (r < 0.94 && this.trashed.length > 0) {
      const nodeId = this.trashed.splice(Math.floor(this.random() * this.trashed.length), 1)[0] as string;
      this.trashedFiles.delete(nodeId);
      this.purgeable.push(nodeId);
      return { type: 'NodePurged', data: { nodeId, scope: 'node', versionIds: [] } };
    }
    if (r < 0.97 && file.versions.length > 2) {
      const old = file.versions.splice(0, 1)[0] as { id: string };
      return { type: 'NodePurged', data: { nodeId: fileId, scope: 'versions', versionIds: [old.id] } };
    }
    const from = this.pick(file.versions);
    const v = { ...from, id: `v${this.n}` };
    file.versions.push(v);
    return this.versionEvent('VersionRestored', fileId, v, { restoredFromVersionId: from.id });
  }

  private versionEvent(type: 'FileVersionCommitted' | 'VersionRestored', nodeId: string, v: SimVersion, extra: object): SimEvent {
    const file = this.files.get(nodeId) as { parentId: string; name: string };
    return {
      type,
      data: {
        nodeId, parentId: file.parentId, name: file.name, versionId: v.id, size: v.size, contentHash: sha(v.chunks.map((c) => c.hash).join('')),
        chunks: v.chunks, modifiedAt: new Date(this.clock).toISOString(), ...extra,
      },
    };
  }

  /** The next event as an es_events COPY line, chained onto this stream's head. */
  nextRow(): string {
    const event = this.next();
    this.clock += 1000 + Math.floor(this.random() * 60_000);
    this.version++;
    const eventId = crypto.randomUUID();
    const metadata = { at: new Date(this.clock).toISOString(), userId: `u${this.id}`, deviceId: `dev${this.n % 3}`, correlationId: eventId, causationId: null };
    const fields = {
      streamId: workspaceStreamId(this.id), version: this.version, eventId, type: event.type,
      schemaVersion: EVENT_SCHEMA_VERSION[event.type], data: event.data, metadata,
    };
    this.head = chainHash(this.head, canonicalEvent(fields));
    return copyLine([fields.streamId, fields.version, eventId, event.type, fields.schemaVersion, JSON.stringify(event.data), JSON.stringify(metadata), `\\x${this.head.toString('hex')}`]);
  }
}

/** A seeded generator (mulberry32): the same log for the same seed. */
const seeded = (seed: number) => () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/**
 * Writes `events` events over `workspaces` streams, interleaved as a live log is (round robin over
 * workspaces), with valid hash chains, by COPY. The log's secondary indexes are dropped during the
 * load and rebuilt after it (same definitions), which is several times faster than maintaining them.
 */
export const generateLog = async (pool: pg.Pool, workspaces: number, events: number): Promise<void> => {
  const random = seeded(42);
  const sims = Array.from({ length: workspaces }, (_, i) => new WorkspaceSim(`ws${String(i).padStart(6, '0')}`, random));
  const perWorkspace = Math.ceil(events / workspaces);
  const client = await pool.connect();
  try {
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'es_events' AND indexname <> 'es_events_pkey'`,
    );
    const { rows: constraints } = await client.query<{ conname: string; def: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'es_events'::regclass AND contype = 'u'`,
    );
    for (const c of constraints) await client.query(`ALTER TABLE es_events DROP CONSTRAINT ${c.conname}`);
    for (const i of indexes) await client.query(`DROP INDEX IF EXISTS ${i.indexname}`);
    let written = 0;
    for (let round = 0; round < perWorkspace && written < events; round += 50) {
      const chunk: string[] = [];
      let text = '';
      for (let k = round; k < Math.min(round + 50, perWorkspace); k++)
        for (const sim of sims) {
          if (written >= events) break;
          text += sim.nextRow();
          written++;
          if (text.length > 1 << 20) {
            chunk.push(text);
            text = '';
          }
        }
      if (text !== '') chunk.push(text);
      await copyIn(client, 'COPY es_events (stream_id, stream_version, event_id, type, schema_version, data, metadata, hash) FROM STDIN', chunk);
    }
    await copyIn(client, 'COPY es_streams (stream_id, version, head_hash) FROM STDIN', [
      sims.map((s) => copyLine([workspaceStreamId(s.id), s.version, `\\x${s.head.toString('hex')}`])).join(''),
    ]);
    await client.query(`SET maintenance_work_mem = '512MB'`);
    for (const c of constraints) await client.query(`ALTER TABLE es_events ADD CONSTRAINT ${c.conname} ${c.def}`);
    for (const i of indexes) if (!constraints.some((c) => c.conname === i.indexname)) await client.query(i.indexdef);
    await client.query('VACUUM ANALYZE es_events');
    await client.query('VACUUM ANALYZE es_streams');
  } finally {
    client.release();
  }
};

/**
 * Projection rebuild throughput (`npm run bench -- rebuild`): a log of BENCH_EVENTS (1,000,000)
 * events over BENCH_WORKSPACES (1,000) workspaces; the live tree tables are built first (not timed),
 * then `rebuildLive` rebuilds them from the log and switches (timed, end to end). Baseline in the
 * same run: reading the same events, in the same order and decoded the same way, applying nothing.
 */
export const benchRebuild = async (): Promise<void> => {
  const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
  const workspaces = Number(process.env.BENCH_WORKSPACES ?? 1_000);
  const db = await benchDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
    let t0 = performance.now();
    await generateLog(pool, workspaces, events);
    const generated = (performance.now() - t0) / 1000;
    // The live tables a running service would have (built the fast way; not timed).
    t0 = performance.now();
    await createBareShadow(pool, treeProjection, 'rm', 'rm_seed');
    await bulkBuildTree(pool, 'rm_seed');
    await addLiveIndexes(pool, treeProjection, 'rm', 'rm_seed');
    await analyzeShadow(pool, treeProjection, 'rm_seed');
    await addLiveTriggers(pool, treeProjection, 'rm', 'rm_seed');
    await pool.query('DROP SCHEMA rm CASCADE');
    await pool.query('ALTER SCHEMA rm_seed RENAME TO rm');
    const seeded_ = (performance.now() - t0) / 1000;

    // The baseline reads as the rebuild does: the same readers and the same worker threads parsing
    // and decoding, only nothing folded or written.
    t0 = performance.now();
    const { events: read } = await bulkReadLog(pool);
    const readSeconds = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const phases: Record<string, number> = {};
    let phase = 'prepare';
    let since = t0;
    const result = await rebuildLive(pool, treeProjection, {
      onProgress: (p) => {
        if (p.phase === phase) return;
        phases[phase] = (phases[phase] ?? 0) + (performance.now() - since) / 1000;
        phase = p.phase;
        since = performance.now();
      },
    });
    const rebuildSeconds = (performance.now() - t0) / 1000;
    const rebuildRate = result.built / rebuildSeconds;
    const readRate = read / readSeconds;
    const counts = await pool.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM rm.nodes) AS nodes, (SELECT count(*) FROM rm.versions) AS versions,
              (SELECT count(*) FROM rm.chunk_refs) AS chunk_refs, (SELECT count(*) FROM rm.trash) AS trash`,
    );
    console.log(`\nrebuild: ${read} events over ${workspaces} workspaces on ${machine()}, ${new Date().toISOString()}`);
    console.log(`log generated in ${fmt(generated)} s; live tables seeded in ${fmt(seeded_)} s; rows: ${JSON.stringify(counts.rows[0])}`);
    console.log('| scenario | events | seconds | events/s | ratio to baseline |');
    console.log('|---|---|---|---|---|');
    console.log(`| baseline: read + decode (same readers and workers), nothing applied | ${read} | ${fmt(readSeconds, 2)} | ${fmt(readRate, 0)} | 1.00 |`);
    console.log(`| strata: rebuildLive (fold, COPY, indexes, catch-up, switch) | ${result.built} | ${fmt(rebuildSeconds, 2)} | ${fmt(rebuildRate, 0)} | ${fmt(rebuildRate / readRate, 2)} |`);
    console.log(`phases (s): ${Object.entries(phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}; the switch held writers for ${fmt(result.switchMs, 1)} ms`);
  } finally {
    await pool.end();
    await db.drop();
  }
};
