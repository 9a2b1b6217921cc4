/**
 * The tree projection's statements, built for one schema: `rm` serves reads, a rebuild writes into a
 * shadow schema with the same tables. Each event is one statement (plus chunk-ref cleanup after a
 * purge) so the inline projection adds few round trips to a commit.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

const finish = (s: string) => `
  UPDATE ${s}.workspaces SET cursor = $seq, updated_at = $at, used_bytes = used_bytes + (USED_DELTA)
  WHERE workspace_id = $ws`;

// Parameters are written by name here and numbered once per statement, so each reads like prose.
const numbered = (sql: string, names: readonly string[]): string =>
  names.reduce((acc, name, i) => acc.replaceAll(`$${name}`, `$${i + 1}`), sql).replaceAll('USED_DELTA', '0');

const withDelta = (sql: string, delta: string) => sql.replace('USED_DELTA', delta);

export const treeStatements = (s: string) => {
  if (!SCHEMA_NAME.test(s)) throw new Error(`invalid schema name ${s}`);
  // Deleting walks the live subtree (the live-name index serves each step); what went to the trash
  // with a root is then found directly by trashed_by, without walking.
  const liveSubtree = `
    WITH RECURSIVE sub AS (
      SELECT node_id FROM ${s}.nodes WHERE workspace_id = $ws AND node_id = $node AND trashed_by IS NULL AND NOT purged
      UNION ALL
      SELECT n.node_id FROM ${s}.nodes n JOIN sub ON n.workspace_id = $ws AND n.parent_id = sub.node_id
      WHERE n.trashed_by IS NULL AND NOT n.purged
    )`;
  const trashedWith = `WITH sub AS (SELECT node_id FROM ${s}.nodes WHERE workspace_id = $ws AND trashed_by = $node AND NOT purged)`;
  const refsUp = `refs AS (
      INSERT INTO ${s}.chunk_refs (workspace_id, hash, size, refs)
      SELECT DISTINCT ON (c.hash) $ws, c.hash, c.size, 1 FROM jsonb_to_recordset($chunks::jsonb) AS c(hash text, size bigint)
      ON CONFLICT (workspace_id, hash) DO UPDATE SET refs = ${s}.chunk_refs.refs + 1
      RETURNING 1)`;
  const versionNames = ['ws', 'seq', 'at', 'node', 'parent', 'name', 'key', 'version', 'size', 'hash', 'chunks', 'modified', 'user', 'device', 'from'] as const;
  const version = numbered(
    withDelta(
      `WITH node AS (
        INSERT INTO ${s}.nodes (workspace_id, node_id, kind, parent_id, name, name_key, latest_version_id, size, content_hash, created_at, modified_at)
        VALUES ($ws, $node, 'file', $parent, $name, $key, $version, $size, $hash, $at, $modified)
        ON CONFLICT (workspace_id, node_id) DO UPDATE SET latest_version_id = excluded.latest_version_id,
          size = excluded.size, content_hash = excluded.content_hash, modified_at = excluded.modified_at
        RETURNING 1
      ), ver AS (
        INSERT INTO ${s}.versions (workspace_id, version_id, node_id, seq, size, content_hash, chunks, restored_from, user_id, device_id, created_at, modified_at)
        VALUES ($ws, $version, $node, $seq, $size, $hash, $chunks::jsonb, $from, $user, $device, $at, $modified)
        RETURNING 1
      ), ${refsUp}
      ${finish(s)}`,
      `$size - COALESCE((SELECT size FROM ${s}.nodes WHERE workspace_id = $ws AND node_id = $node), 0)`,
    ),
    versionNames,
  );
  const purgedChunks = (versions: string) => `
      dec AS (
        SELECT hash, count(*)::int AS n FROM (
          SELECT DISTINCT v.version_id, c->>'hash' AS hash FROM ${versions} v, jsonb_array_elements(v.chunks) c
        ) per_version GROUP BY hash
      ), refs AS (
        UPDATE ${s}.chunk_refs r SET refs = r.refs - dec.n FROM dec WHERE r.workspace_id = $ws AND r.hash = dec.hash RETURNING 1
      )`;
  return {
    workspaceCreated: numbered(
      `WITH root AS (
        INSERT INTO ${s}.nodes (workspace_id, node_id, kind, parent_id, name, name_key, created_at, modified_at)
        VALUES ($ws, $root, 'folder', NULL, '', '', $at, $at) RETURNING 1
      )
      INSERT INTO ${s}.workspaces (workspace_id, root_id, owner_id, quota_bytes, used_bytes, cursor, created_at, updated_at)
      SELECT $ws, $root, $owner, $quota, 0, $seq, $at, $at FROM root`,
      ['ws', 'seq', 'at', 'root', 'owner', 'quota'],
    ),
    folderCreated: numbered(
      `WITH node AS (
        INSERT INTO ${s}.nodes (workspace_id, node_id, kind, parent_id, name, name_key, created_at, modified_at)
        VALUES ($ws, $node, 'folder', $parent, $name, $key, $at, $at) RETURNING 1
      ) ${finish(s)}`,
      ['ws', 'seq', 'at', 'node', 'parent', 'name', 'key'],
    ),
    version,
    versionNames,
    // Many new versions of distinct files at once (a batch of commits): the same rows as one
    // `version` statement per event, in one round trip. Each version adds one reference to each
    // distinct chunk it lists, as `version` does.
    versions: numbered(
      `WITH input AS (
        SELECT * FROM unnest($seq::bigint[], $at::timestamptz[], $node::text[], $parent::text[], $name::text[], $key::text[], $version::text[],
          $size::bigint[], $hash::text[], $chunks::jsonb[], $modified::timestamptz[], $user::text[], $device::text[])
          AS i(seq, at, node, parent, name, key, version, size, hash, chunks, modified, usr, device)
      ), old AS (
        -- One index probe per version: as a join, the cached plan read every node of the workspace.
        SELECT COALESCE(sum((SELECT n.size FROM ${s}.nodes n WHERE n.workspace_id = $ws AND n.node_id = i.node)), 0) AS size FROM input i
      ), node AS (
        INSERT INTO ${s}.nodes (workspace_id, node_id, kind, parent_id, name, name_key, latest_version_id, size, content_hash, created_at, modified_at)
        SELECT $ws, node, 'file', parent, name, key, version, size, hash, at, modified FROM input
        ON CONFLICT (workspace_id, node_id) DO UPDATE SET latest_version_id = excluded.latest_version_id,
          size = excluded.size, content_hash = excluded.content_hash, modified_at = excluded.modified_at
        RETURNING 1
      ), ver AS (
        INSERT INTO ${s}.versions (workspace_id, version_id, node_id, seq, size, content_hash, chunks, restored_from, user_id, device_id, created_at, modified_at)
        SELECT $ws, version, node, seq, size, hash, chunks, NULL, usr, device, at, modified FROM input
        RETURNING 1
      ), refs AS (
        INSERT INTO ${s}.chunk_refs (workspace_id, hash, size, refs)
        SELECT $ws, c.hash, max(c.size), count(*) FROM (
          SELECT DISTINCT i.version, c.hash, c.size FROM input i, jsonb_to_recordset(i.chunks) AS c(hash text, size bigint)
        ) c GROUP BY c.hash
        ON CONFLICT (workspace_id, hash) DO UPDATE SET refs = ${s}.chunk_refs.refs + excluded.refs
        RETURNING 1
      )
      UPDATE ${s}.workspaces SET cursor = (SELECT max(seq) FROM input), updated_at = (SELECT at FROM input ORDER BY seq DESC LIMIT 1),
        used_bytes = used_bytes + (SELECT sum(size) FROM input) - (SELECT size FROM old)
      WHERE workspace_id = $ws`,
      ['ws', 'seq', 'at', 'node', 'parent', 'name', 'key', 'version', 'size', 'hash', 'chunks', 'modified', 'user', 'device'],
    ),
    nodeMoved: numbered(
      `WITH moved AS (
        UPDATE ${s}.nodes SET parent_id = $parent, name = $name, name_key = $key WHERE workspace_id = $ws AND node_id = $node RETURNING 1
      ) ${finish(s)}`,
      ['ws', 'seq', 'at', 'node', 'parent', 'name', 'key'],
    ),
    nodeDeleted: numbered(
      withDelta(
        `${liveSubtree}, marked AS (
          UPDATE ${s}.nodes n SET trashed_by = $node FROM sub WHERE n.workspace_id = $ws AND n.node_id = sub.node_id RETURNING n.kind, n.size
        ), trash AS (
          INSERT INTO ${s}.trash (workspace_id, node_id, kind, parent_id, name, path, deleted_at, user_id, device_id)
          VALUES ($ws, $node, $kind, $parent, $name, $path, $at, $user, $device) RETURNING 1
        ) ${finish(s)}`,
        `-(SELECT COALESCE(sum(size), 0) FROM marked WHERE kind = 'file')`,
      ),
      ['ws', 'seq', 'at', 'node', 'kind', 'parent', 'name', 'path', 'user', 'device'],
    ),
    nodeRestored: numbered(
      withDelta(
        `${trashedWith}, revived AS (
          UPDATE ${s}.nodes n SET trashed_by = NULL,
            parent_id = CASE WHEN n.node_id = $node THEN $parent ELSE n.parent_id END,
            name = CASE WHEN n.node_id = $node THEN $name ELSE n.name END,
            name_key = CASE WHEN n.node_id = $node THEN $key ELSE n.name_key END
          FROM sub WHERE n.workspace_id = $ws AND n.node_id = sub.node_id RETURNING n.kind, n.size
        ), untrash AS (
          DELETE FROM ${s}.trash WHERE workspace_id = $ws AND node_id = $node RETURNING 1
        ) ${finish(s)}`,
        `(SELECT COALESCE(sum(size), 0) FROM revived WHERE kind = 'file')`,
      ),
      ['ws', 'seq', 'at', 'node', 'parent', 'name', 'key'],
    ),
    nodePurged: numbered(
      `${trashedWith}, gone AS (
        UPDATE ${s}.nodes n SET purged = true FROM sub WHERE n.workspace_id = $ws AND n.node_id = sub.node_id RETURNING n.node_id
      ), vers AS (
        UPDATE ${s}.versions v SET purged_at = $at FROM gone
        WHERE v.workspace_id = $ws AND v.node_id = gone.node_id AND v.purged_at IS NULL RETURNING v.version_id, v.chunks
      ), ${purgedChunks('vers')}, untrash AS (
        DELETE FROM ${s}.trash WHERE workspace_id = $ws AND node_id = $node RETURNING 1
      ) ${finish(s)}`,
      ['ws', 'seq', 'at', 'node'],
    ),
    versionsPurged: numbered(
      `WITH vers AS (
        UPDATE ${s}.versions v SET purged_at = $at
        WHERE v.workspace_id = $ws AND v.node_id = $node AND v.version_id = ANY($versions::text[]) AND v.purged_at IS NULL
        RETURNING v.version_id, v.chunks
      ), ${purgedChunks('vers')} ${finish(s)}`,
      ['ws', 'seq', 'at', 'node', 'versions'],
    ),
    dropUnreferencedChunks: `DELETE FROM ${s}.chunk_refs WHERE workspace_id = $1 AND refs = 0`,
    nodePath: `
      WITH RECURSIVE up AS (
        SELECT node_id, parent_id, name, 0 AS depth FROM ${s}.nodes WHERE workspace_id = $1 AND node_id = $2
        UNION ALL
        SELECT n.node_id, n.parent_id, n.name, up.depth + 1 FROM ${s}.nodes n JOIN up ON n.workspace_id = $1 AND n.node_id = up.parent_id
      )
      SELECT COALESCE(string_agg(name, '/' ORDER BY depth DESC) FILTER (WHERE parent_id IS NOT NULL), '') AS path FROM up`,
  };
};

export type TreeStatements = ReturnType<typeof treeStatements>;
