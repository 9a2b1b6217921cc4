import { auditEvents, type AuditEvent, type AuditSource, type ChainHead } from './source.js';

export interface AuditLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly userId: string;
  readonly deviceId: string | null;
  /** The user's email and the device's name when the workspace's directory knows them (not for the server's own jobs). */
  readonly userEmail?: string;
  readonly deviceName?: string;
  readonly type: string;
  readonly nodeId: string | null;
  /** The node's path right after the change ("/" for the root); for a delete or purge, where it was. */
  readonly path: string | null;
  /** For a move or an undelete elsewhere: where it was before. */
  readonly fromPath?: string;
}

export interface AuditLogFilter {
  /**
   * Only changes at this path or below it (either end of a move counts), and the moves, deletes,
   * undeletes and purges of a folder above it, which move or remove what is at the path too.
   */
  readonly path?: string;
  readonly since?: Date;
  readonly until?: Date;
}

/**
 * Each node's parent and name as of the events seen so far: the path of any node at the time of any
 * event, in memory that grows with the number of nodes, not of events.
 */
export class PathTracker {
  private readonly nodes = new Map<string, { parentId: string | null; name: string }>();

  set(nodeId: string, parentId: string | null, name: string): void {
    this.nodes.set(nodeId, { parentId, name });
  }

  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  pathOf(nodeId: string): string {
    const names: string[] = [];
    let current = this.nodes.get(nodeId);
    for (let depth = 0; current !== undefined && current.parentId !== null && depth < 10_000; depth++) {
      names.push(current.name);
      current = this.nodes.get(current.parentId);
    }
    return `/${names.reverse().join('/')}`;
  }

  /** Applies an event and describes it, with paths as they were at that moment. */
  apply(e: AuditEvent): AuditLogEntry {
    const base = { seq: e.seq, at: e.at, userId: e.userId, deviceId: e.deviceId, type: e.event.type };
    const ev = e.event;
    if ('unknown' in ev) return { ...base, nodeId: null, path: null };
    switch (ev.type) {
      case 'WorkspaceCreated':
        this.set(ev.data.rootId, null, '');
        return { ...base, nodeId: ev.data.rootId, path: '/' };
      case 'FolderCreated':
        this.set(ev.data.nodeId, ev.data.parentId, ev.data.name);
        return { ...base, nodeId: ev.data.nodeId, path: this.pathOf(ev.data.nodeId) };
      case 'FileVersionCommitted':
      case 'VersionRestored':
        this.set(ev.data.nodeId, ev.data.parentId, ev.data.name);
        return { ...base, nodeId: ev.data.nodeId, path: this.pathOf(ev.data.nodeId) };
      case 'NodeMoved':
      case 'NodeRestored': {
        const fromPath = this.has(ev.data.nodeId) ? this.pathOf(ev.data.nodeId) : undefined;
        this.set(ev.data.nodeId, ev.data.parentId, ev.data.name);
        const path = this.pathOf(ev.data.nodeId);
        return { ...base, nodeId: ev.data.nodeId, path, ...(fromPath !== undefined && fromPath !== path ? { fromPath } : {}) };
      }
      case 'NodeDeleted':
      case 'NodePurged':
        return { ...base, nodeId: ev.data.nodeId, path: this.pathOf(ev.data.nodeId) };
      default: {
        const _exhaustive: never = ev;
        return _exhaustive;
      }
    }
  }
}

const under = (path: string | null | undefined, prefix: string): boolean =>
  path !== null && path !== undefined && (prefix === '/' || path === prefix || path.startsWith(`${prefix}/`));

/** Changes to a node that carry everything below it along. */
const SUBTREE_CHANGES = new Set(['NodeMoved', 'NodeDeleted', 'NodeRestored', 'NodePurged']);

const concerns = (entry: AuditLogEntry, path: string): boolean =>
  under(entry.path, path) ||
  under(entry.fromPath, path) ||
  (SUBTREE_CHANGES.has(entry.type) &&
    ((entry.path !== null && entry.path !== '/' && under(path, entry.path)) || (entry.fromPath !== undefined && under(path, entry.fromPath))));

export const matches = (entry: AuditLogEntry, filter: AuditLogFilter): boolean => {
  const at = Date.parse(entry.at);
  if (filter.since !== undefined && at < filter.since.getTime()) return false;
  if (filter.until !== undefined && at > filter.until.getTime()) return false;
  if (filter.path !== undefined && !concerns(entry, filter.path)) return false;
  return true;
};

/**
 * Every change of a workspace in stream order, up to the head it has when the reading starts, each
 * with its time, user, device, type and the paths its node had then, handed to `emit` as it is read
 * (emit may wait, e.g. for a slow output): memory holds one page of events and the node map, so it
 * runs over any number of events. Null when there is no such workspace (or the token may not read it).
 */
export const streamAuditLog = async (
  source: AuditSource,
  workspaceId: string,
  filter: AuditLogFilter,
  emit: (entry: AuditLogEntry) => void | Promise<void>,
  pageSize = 1000,
): Promise<{ events: number; shown: number; head: ChainHead } | null> => {
  const head = await source.head(workspaceId);
  if (head === null) return null;
  const people = await source.people(workspaceId);
  const paths = new PathTracker();
  let events = 0;
  let shown = 0;
  for await (const e of auditEvents(source, workspaceId, { pageSize, upTo: head.cursor })) {
    events++;
    const entry = paths.apply(e);
    if (!matches(entry, filter)) continue;
    shown++;
    const userEmail = people.users.get(entry.userId);
    const deviceName = entry.deviceId === null ? undefined : people.devices.get(entry.deviceId);
    await emit({ ...entry, ...(userEmail === undefined ? {} : { userEmail }), ...(deviceName === undefined ? {} : { deviceName }) });
  }
  return { events, shown, head };
};

// Names for people, the id alongside a device's name: two devices may share one.
const userOf = (e: AuditLogEntry): string => e.userEmail ?? e.userId;
const deviceOf = (e: AuditLogEntry): string => (e.deviceId === null ? '-' : e.deviceName === undefined ? e.deviceId : `${JSON.stringify(e.deviceName)}(${e.deviceId})`);

/** One line of the human-readable log. */
export const formatEntry = (e: AuditLogEntry): string =>
  [e.at, `#${e.seq}`, e.type.padEnd(20), `user=${userOf(e)}`, `device=${deviceOf(e)}`, e.fromPath === undefined ? (e.path ?? '-') : `${e.fromPath} -> ${e.path}`].join('  ');
