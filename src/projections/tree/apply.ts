import type pg from 'pg';
import { nameKey } from '../../domain/names.js';
import type { WorkspaceEvent } from '../../domain/workspace/events.js';
import type { StoredEvent } from '../../storage/eventlog/types.js';
import { prepared } from '../../storage/postgres/prepared.js';
import { treeStatements, type TreeStatements } from './sql.js';

type Prepared = { [K in keyof TreeStatements]: TreeStatements[K] extends string ? ReturnType<typeof prepared> : never };

const cache = new Map<string, Prepared>();
const statementsFor = (schema: string): Prepared => {
  let s = cache.get(schema);
  if (s === undefined) {
    const texts = treeStatements(schema);
    s = Object.fromEntries(
      Object.entries(texts)
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .map(([k, text]) => [k, prepared(`tree_${schema}_${k}`, text)]),
    ) as Prepared;
    cache.set(schema, s);
  }
  return s;
};

const workspaceOf = (streamId: string): string => streamId.replace(/^workspace-/, '');

/**
 * Applies one workspace event to the tree read model (workspaces, nodes, versions, chunk refs,
 * trash). Inline: called in the append's transaction, so a read right after a commit sees it.
 * Deterministic: everything comes from the event and its metadata, so a rebuild gives the same rows.
 */
export const applyTreeEvent = async (client: pg.ClientBase, schema: string, stored: StoredEvent<WorkspaceEvent>): Promise<void> => {
  const q = statementsFor(schema);
  const ws = workspaceOf(stored.streamId);
  const { at, userId, deviceId } = stored.metadata;
  const head = [ws, stored.version, at];
  const e = stored.event;
  switch (e.type) {
    case 'WorkspaceCreated':
      await client.query(q.workspaceCreated([...head, e.data.rootId, e.data.ownerId, e.data.quotaBytes]));
      return;
    case 'FolderCreated':
      await client.query(q.folderCreated([...head, e.data.nodeId, e.data.parentId, e.data.name, nameKey(e.data.name)]));
      return;
    case 'FileVersionCommitted':
    case 'VersionRestored': {
      const d = e.data;
      const from = e.type === 'VersionRestored' ? e.data.restoredFromVersionId : null;
      await client.query(q.version([
        ...head, d.nodeId, d.parentId, d.name, nameKey(d.name), d.versionId, d.size, d.contentHash,
        JSON.stringify(d.chunks), d.modifiedAt, userId, deviceId ?? null, from,
      ]));
      return;
    }
    case 'NodeMoved':
      await client.query(q.nodeMoved([...head, e.data.nodeId, e.data.parentId, e.data.name, nameKey(e.data.name)]));
      return;
    case 'NodeDeleted': {
      const parentPath = (await client.query<{ path: string }>(q.nodePath([ws, e.data.parentId]))).rows[0]?.path ?? '';
      const path = `${parentPath === '' ? '' : `/${parentPath}`}/${e.data.name}`;
      await client.query(q.nodeDeleted([...head, e.data.nodeId, e.data.kind, e.data.parentId, e.data.name, path, userId, deviceId ?? null]));
      return;
    }
    case 'NodeRestored':
      await client.query(q.nodeRestored([...head, e.data.nodeId, e.data.parentId, e.data.name, nameKey(e.data.name)]));
      return;
    case 'NodePurged':
      if (e.data.scope === 'node') await client.query(q.nodePurged([...head, e.data.nodeId]));
      else await client.query(q.versionsPurged([...head, e.data.nodeId, e.data.versionIds]));
      await client.query(q.dropUnreferencedChunks([ws]));
      return;
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
};
