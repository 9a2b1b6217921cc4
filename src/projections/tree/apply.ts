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

type Committed = StoredEvent<WorkspaceEvent> & { readonly event: Extract<WorkspaceEvent, { type: 'FileVersionCommitted' }> };
const isCommitted = (e: StoredEvent<WorkspaceEvent>): e is Committed => e.event.type === 'FileVersionCommitted';

/**
 * Applies events in order, as applyTreeEvent one by one would. Runs of new versions of distinct
 * files (a batch of commits) go in one statement each: the rows are the same, the round trips one.
 */
export const applyTreeEvents = async (client: pg.ClientBase, schema: string, events: readonly StoredEvent<WorkspaceEvent>[]): Promise<void> => {
  let i = 0;
  while (i < events.length) {
    const run: Committed[] = [];
    const nodes = new Set<string>();
    for (let j = i; j < events.length; j++) {
      const e = events[j] as StoredEvent<WorkspaceEvent>;
      if (!isCommitted(e) || nodes.has(e.event.data.nodeId) || e.streamId !== events[i]?.streamId) break;
      nodes.add(e.event.data.nodeId);
      run.push(e);
    }
    if (run.length < 2) {
      await applyTreeEvent(client, schema, events[i] as StoredEvent<WorkspaceEvent>);
      i++;
      continue;
    }
    const column = <A>(f: (e: Committed) => A): A[] => run.map(f);
    await client.query(
      statementsFor(schema).versions([
        workspaceOf(run[0]?.streamId ?? ''),
        column((e) => e.version),
        column((e) => e.metadata.at),
        column((e) => e.event.data.nodeId),
        column((e) => e.event.data.parentId),
        column((e) => e.event.data.name),
        column((e) => nameKey(e.event.data.name)),
        column((e) => e.event.data.versionId),
        column((e) => e.event.data.size),
        column((e) => e.event.data.contentHash),
        column((e) => JSON.stringify(e.event.data.chunks)),
        column((e) => e.event.data.modifiedAt),
        column((e) => e.metadata.userId),
        column((e) => e.metadata.deviceId ?? null),
      ]),
    );
    i += run.length;
  }
};
