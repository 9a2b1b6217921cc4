import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { STATE_DIR } from '../state/layout.js';

/** What chokidar says happened to a path. */
export type WatchEvent = 'add' | 'addDir' | 'change' | 'unlink' | 'unlinkDir';

/**
 * Calls onChange after anything under root changes (this device's .strata/ aside), with what and
 * where. Events only say "scan soon"; the scan compares with the synced base, so a missed or
 * duplicated event costs nothing but latency (the periodic rescan catches the missed ones).
 */
export const watchFolder = (root: string, onChange: (event: WatchEvent, file: string) => void, onError: (e: unknown) => void): { close(): Promise<void> } => {
  const stateDir = path.join(root, STATE_DIR);
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    persistent: true,
    followSymlinks: false,
    ignored: (p: string) => p === stateDir || p.startsWith(`${stateDir}${path.sep}`),
  });
  watcher.on('all', (event, file) => onChange(event as WatchEvent, file));
  watcher.on('error', onError);
  return { close: () => watcher.close() };
};
