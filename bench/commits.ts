import crypto from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { createEachHandler } from '../src/commands/each.js';
import { createCommandHandler } from '../src/commands/handle.js';
import { createPostgresWorkspaceStore } from '../src/commands/postgres/workspaceStore.js';
import type { ChunkHash, IsoTimestamp, NodeId, NonNegativeInt, UserId, VersionId, WorkspaceId } from '../src/domain/ids.js';
import type { WorkspaceCommand } from '../src/domain/workspace/commands.js';
import { migrate } from '../src/storage/postgres/migrate.js';
import { benchDatabase, fmt, machine, runLoad, type LoadResult } from './support.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex') as ChunkHash;
const meta = () => ({ now: new Date().toISOString() as IsoTimestamp, userId: 'bench' as UserId, deviceId: null });

const commitCommand = (ws: string, i: number, w: number, prefix = 'f'): WorkspaceCommand => {
  const chunk = { hash: sha(`${ws}:${w}:${i}`), size: 4096 as NonNegativeInt };
  return {
    type: 'CommitFileVersion',
    workspaceId: ws as WorkspaceId,
    data: {
      fileId: crypto.randomUUID() as NodeId, newFile: true, parentId: 'root' as NodeId, name: `w${w}-${prefix}${i}.bin`,
      versionId: crypto.randomUUID() as VersionId, baseVersionId: null, chunks: [chunk], size: 4096 as NonNegativeInt,
      contentHash: sha(chunk.hash), modifiedAt: null,
    },
    metadata: meta(),
  };
};

/**
 * Durable single-file commits per second through the real command path (decide on the projection,
 * append, inline projections, COMMIT), against a plain INSERT+COMMIT loop at the same concurrency.
 */
const BATCH = 100;

export const benchCommits = async (seconds: number): Promise<void> => {
  const db = await benchDatabase();
  const rows: string[] = [];
  try {
    for (const concurrency of [1, 32, 64]) {
      const pool = new pg.Pool({ connectionString: db.url, max: concurrency });
      pool.on('error', () => undefined);
      await migrate(pool);
      await pool.query('CREATE TABLE IF NOT EXISTS bench_baseline (id uuid PRIMARY KEY, workspace text, payload jsonb)');
      const handle = createCommandHandler({ store: createPostgresWorkspaceStore(pool), newEventId: () => crypto.randomUUID() });
      const each = createEachHandler({ store: createPostgresWorkspaceStore(pool), newEventId: () => crypto.randomUUID() });
      const workspaces = Array.from({ length: concurrency }, () => `bench${crypto.randomBytes(4).toString('hex')}`);
      for (const ws of [...workspaces, `shared${concurrency}`]) {
        const created = await handle({
          type: 'CreateWorkspace', workspaceId: ws as WorkspaceId,
          data: { rootId: 'root' as NodeId, ownerId: 'bench' as UserId, quotaBytes: (1024 ** 4) as NonNegativeInt }, metadata: meta(),
        });
        if (E.isLeft(created)) throw new Error(created.left.message);
      }
      const strata = (pick: (w: number) => string): Promise<LoadResult> =>
        runLoad(concurrency, seconds, async (w, i) => {
          const r = await handle(commitCommand(pick(w), i, w));
          if (E.isLeft(r)) throw new Error(`commit refused: ${r.left.code}`);
        });
      const baseline = await runLoad(concurrency, seconds, async (w) => {
        await pool.query('INSERT INTO bench_baseline (id, workspace, payload) VALUES ($1, $2, $3)', [crypto.randomUUID(), `w${w}`, '{"size":4096}']);
      });
      const distinct = await strata((w) => workspaces[w] as string);
      const shared = await strata(() => `shared${concurrency}`);
      // The path of POST /v1/files/commit_batch: BATCH commits decided on one loaded state and
      // appended in one transaction. p50/p99 are per batch; commits/s counts the commits.
      const batched = await runLoad(concurrency, seconds, async (w, i) => {
        const commands = Array.from({ length: BATCH }, (_, k) => commitCommand(workspaces[w] as string, i * BATCH + k, w, 'batch'));
        const r = await each(workspaces[w] as string, commands);
        if (E.isLeft(r) || r.right.some(E.isLeft)) throw new Error('batch refused');
      });
      const perCommit = { ...batched, perSecond: batched.perSecond * BATCH };
      const scenarios = [
        ['baseline INSERT+COMMIT', baseline],
        ['strata, distinct workspaces', distinct],
        ['strata, one shared workspace', shared],
        [`strata, batches of ${BATCH} commits, distinct workspaces`, perCommit],
      ] as const;
      for (const [label, r] of scenarios)
        rows.push(
          `| ${concurrency} | ${label} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50ms, 2)} | ${fmt(r.p99ms, 2)} | ${label.startsWith('baseline') ? '1.00' : fmt(r.perSecond / baseline.perSecond, 2)} |`,
        );
      await pool.end();
    }
  } finally {
    await db.drop();
  }
  console.log(`\ncommits: ${seconds}s per scenario on ${machine()}, ${new Date().toISOString()}`);
  console.log('| writers | scenario | commits/s | p50 ms | p99 ms | ratio to baseline |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
};
