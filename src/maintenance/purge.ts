import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import type { HandleCommand } from '../commands/handle.js';
import type { IsoTimestamp, NodeId, UserId, VersionId, WorkspaceId } from '../domain/ids.js';
import type { CommandOf } from '../domain/workspace/commands.js';

/** How long deleted nodes and superseded versions are kept when a deployment does not say. */
export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Who the purge events are recorded as: no person asked for them. */
export const RETENTION_USER = 'strata-retention' as UserId;

export interface TrashToPurge {
  readonly workspaceId: WorkspaceId;
  readonly nodeId: NodeId;
  readonly kind: 'file' | 'folder';
  readonly path: string;
  readonly deletedAt: Date;
  /** Bytes of the unpurged versions of what went to the trash with it. */
  readonly bytes: number;
}

export interface VersionsToPurge {
  readonly workspaceId: WorkspaceId;
  readonly nodeId: NodeId;
  /** Where the file is now (in the trash: where it was). */
  readonly path: string;
  readonly versionIds: readonly VersionId[];
  readonly bytes: number;
}

export interface PurgePlan {
  /** Deleted before this, superseded before this: purged. */
  readonly cutoff: Date;
  readonly trash: readonly TrashToPurge[];
  readonly versions: readonly VersionsToPurge[];
}

export interface PurgeReport {
  readonly dryRun: boolean;
  readonly cutoff: Date;
  readonly trashPurged: number;
  readonly versionsPurged: number;
  /** Bytes of the versions purged (their chunks are freed by GC once nothing else uses them). */
  readonly bytes: number;
  /** Items that changed meanwhile (undeleted, purged by another run): left alone. */
  readonly skipped: number;
}

export const retentionCutoff = (now: Date, retentionDays: number): Date => new Date(now.getTime() - retentionDays * DAY_MS);

/** When a node deleted at deletedAt is purged. */
export const purgeAt = (deletedAt: Date, retentionDays: number): Date => new Date(deletedAt.getTime() + retentionDays * DAY_MS);

/**
 * What retention says must go now: trash roots deleted more than retentionDays ago, and versions
 * superseded (the next version of their file was recorded) more than retentionDays ago. The latest
 * version of a file is its content and is never purged here; a file in the trash goes with its trash
 * root, and when that root is purged too, its versions are left to it (counted once, purged once).
 */
export const planPurge = async (db: pg.Pool | pg.ClientBase, now: Date, retentionDays: number, limit = 10_000): Promise<PurgePlan> => {
  const cutoff = retentionCutoff(now, retentionDays);
  const trash = await db.query<{ workspace_id: WorkspaceId; node_id: NodeId; kind: 'file' | 'folder'; path: string; deleted_at: Date; bytes: string }>({
    name: 'retention_trash',
    text: `SELECT t.workspace_id, t.node_id, t.kind, t.path, t.deleted_at,
                  (SELECT COALESCE(sum(v.size), 0) FROM rm.nodes n JOIN rm.versions v ON v.workspace_id = n.workspace_id AND v.node_id = n.node_id
                   WHERE n.workspace_id = t.workspace_id AND n.trashed_by = t.node_id AND NOT n.purged AND v.purged_at IS NULL) AS bytes
           FROM rm.trash t WHERE t.deleted_at < $1 ORDER BY t.deleted_at, t.workspace_id, t.node_id LIMIT $2`,
    values: [cutoff, limit],
  });
  const versions = await db.query<{ workspace_id: WorkspaceId; node_id: NodeId; path: string; version_ids: VersionId[]; bytes: string }>({
    name: 'retention_versions',
    text: `SELECT g.workspace_id, g.node_id, g.version_ids, g.bytes,
                  (WITH RECURSIVE up (parent_id, name, depth) AS (
                     SELECT n.parent_id, n.name, 0 FROM rm.nodes n WHERE n.workspace_id = g.workspace_id AND n.node_id = g.node_id
                     UNION ALL
                     SELECT p.parent_id, p.name, up.depth + 1 FROM up JOIN rm.nodes p ON p.workspace_id = g.workspace_id AND p.node_id = up.parent_id
                     WHERE up.depth < 10000)
                   SELECT '/' || string_agg(name, '/' ORDER BY depth DESC) FROM up WHERE parent_id IS NOT NULL) AS path
           FROM (SELECT v.workspace_id, v.node_id, array_agg(v.version_id ORDER BY v.seq) AS version_ids, sum(v.size) AS bytes
                 FROM rm.versions v JOIN rm.nodes n ON n.workspace_id = v.workspace_id AND n.node_id = v.node_id AND NOT n.purged
                 WHERE v.purged_at IS NULL AND v.created_at < $1
                   AND (SELECT nx.created_at FROM rm.versions nx WHERE nx.workspace_id = v.workspace_id AND nx.node_id = v.node_id AND nx.seq > v.seq
                        ORDER BY nx.seq LIMIT 1) < $1
                   AND NOT EXISTS (SELECT 1 FROM rm.trash t WHERE t.workspace_id = n.workspace_id AND t.node_id = n.trashed_by AND t.deleted_at < $1)
                 GROUP BY v.workspace_id, v.node_id ORDER BY v.workspace_id, v.node_id LIMIT $2) g
           ORDER BY g.workspace_id, g.node_id`,
    values: [cutoff, limit],
  });
  return {
    cutoff,
    trash: trash.rows.map((r) => ({ workspaceId: r.workspace_id, nodeId: r.node_id, kind: r.kind, path: r.path, deletedAt: r.deleted_at, bytes: Number(r.bytes) })),
    versions: versions.rows.map((r) => ({ workspaceId: r.workspace_id, nodeId: r.node_id, path: r.path, versionIds: r.version_ids, bytes: Number(r.bytes) })),
  };
};

/** Refusals that mean the item changed since it was planned (undeleted, already purged): nothing to do now. */
const MOVED_ON = new Set(['not_found', 'not_in_trash', 'version_is_latest']);

/**
 * Purges what the plan lists, one PurgeNode command each (NodePurged events devices apply like any
 * other), as the retention user at `now`. An item that changed meanwhile is skipped, not an error.
 */
export const executePurge = async (
  handle: HandleCommand,
  plan: PurgePlan,
  now: Date,
  onProgress?: (done: number, total: number) => void,
): Promise<PurgeReport> => {
  const items: Array<{ command: CommandOf<'PurgeNode'>; versions: number; bytes: number }> = [
    ...plan.trash.map((t) => ({ command: purgeCommand(t.workspaceId, t.nodeId, null, now), versions: 0, bytes: t.bytes })),
    ...plan.versions.map((v) => ({ command: purgeCommand(v.workspaceId, v.nodeId, v.versionIds, now), versions: v.versionIds.length, bytes: v.bytes })),
  ];
  let trashPurged = 0;
  let versionsPurged = 0;
  let bytes = 0;
  let skipped = 0;
  for (const [i, item] of items.entries()) {
    const result = await handle(item.command);
    if (E.isRight(result)) {
      if (item.command.data.versionIds === null) trashPurged++;
      else versionsPurged += item.versions;
      bytes += item.bytes;
    } else if (result.left._tag === 'BusyError' || MOVED_ON.has(result.left.code)) skipped++;
    else throw new Error(`purge of ${item.command.data.nodeId} in ${item.command.workspaceId} failed: ${result.left.code}: ${result.left.message}`);
    onProgress?.(i + 1, items.length);
  }
  return { dryRun: false, cutoff: plan.cutoff, trashPurged, versionsPurged, bytes, skipped };
};

/** The report a dry run gives: what executePurge would do. */
export const dryRunReport = (plan: PurgePlan): PurgeReport => ({
  dryRun: true,
  cutoff: plan.cutoff,
  trashPurged: plan.trash.length,
  versionsPurged: plan.versions.reduce((n, v) => n + v.versionIds.length, 0),
  bytes: [...plan.trash, ...plan.versions].reduce((n, x) => n + x.bytes, 0),
  skipped: 0,
});

const purgeCommand = (workspaceId: WorkspaceId, nodeId: NodeId, versionIds: readonly VersionId[] | null, now: Date): CommandOf<'PurgeNode'> => ({
  type: 'PurgeNode',
  workspaceId,
  data: { nodeId, versionIds: versionIds === null ? null : [...versionIds] },
  metadata: { now: now.toISOString() as IsoTimestamp, userId: RETENTION_USER, deviceId: null, correlationId: 'retention' },
});
