import { ServerUnavailable } from './api/errors.js';
import { createHttp } from './api/http.js';
import { createSession } from './api/session.js';
import { createApi } from './api/v1.js';
import { loadIgnoreRules } from './local/ignore.js';
import { sameStat, scanFolder } from './local/scan.js';
import { openSyncedFolder, type ClientConfig } from './state/layout.js';
import type { Report } from './state/model.js';
import { ClientState } from './state/store.js';
import { downloadsDue, pullChanges } from './sync/pull.js';

export interface FolderStatus {
  readonly root: string;
  readonly config: ClientConfig;
  readonly cursor: number;
  readonly uploads: { readonly newFiles: number; readonly changedFiles: number; readonly bytes: number; readonly gone: number; readonly interrupted: number };
  /** null when the server could not be asked. */
  readonly downloads: { readonly files: number; readonly bytes: number; readonly serverCursor: number } | null;
  readonly reports: readonly Report[];
  readonly unreachable: string | null;
}

/**
 * What a sync would do now, without doing it (and without disturbing a sync running on the folder):
 * local changes by stat against the synced base, and the files the server has that this folder
 * does not, from the changes feed after the stored cursor.
 */
export const folderStatus = async (dir: string): Promise<FolderStatus> => {
  const { layout, config } = await openSyncedFolder(dir);
  const state = await ClientState.open(layout.journalDir, { readOnly: true });
  const rules = await loadIgnoreRules(layout.root);
  const scan = await scanFolder(layout.root, rules);
  let newFiles = 0;
  let changedFiles = 0;
  let bytes = 0;
  for (const [p, e] of scan.entries) {
    if (e.kind !== 'file') continue;
    const synced = state.synced.get(p);
    if (synced?.kind !== 'file') newFiles++;
    else if (!sameStat(synced.stat, e.stat)) changedFiles++;
    else continue;
    bytes += e.stat.size;
  }
  let gone = 0;
  for (const [p, e] of state.synced) if (scan.entries.get(p)?.kind !== e.kind && !scan.ignored.has(p)) gone++;
  const cursor = state.cursor;
  let downloads: FolderStatus['downloads'] = null;
  let unreachable: string | null = null;
  try {
    const api = createApi(createHttp(config.server, createSession(layout, config.server)), config.workspaceId);
    await pullChanges({ api, state }, { durable: false });
    const due = downloadsDue({ state, config, rules });
    downloads = { files: due.length, bytes: due.reduce((sum, d) => sum + d.version.size, 0), serverCursor: state.cursor };
  } catch (e) {
    if (!(e instanceof ServerUnavailable)) throw e;
    unreachable = e.message;
  }
  return {
    root: layout.root,
    config,
    cursor,
    uploads: { newFiles, changedFiles, bytes, gone, interrupted: state.pending.size },
    downloads,
    reports: state.reports,
    unreachable,
  };
};
