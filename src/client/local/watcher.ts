import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { STATE_DIR } from '../state/layout.js';

/**
 * Calls onChange after anything under root changes (this device's .strata/ aside). Events carry no
 * meaning here: they only say "scan soon"; the scan compares with the synced base, so a missed or
 * duplicated event costs nothing but latency (the periodic rescan catches the missed ones).
 */
export const watchFolder = (root: string, onChange: () => void, onError: (e: unknown) => void): { close(): Promise<void> } => {
  const stateDir = path.join(root, STATE_DIR);
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    persistent: true,
    followSymlinks: false,
    ignored: (p: string) => p === stateDir || p.startsWith(`${stateDir}${path.sep}`),
  });
  watcher.on('all', () => onChange());
  watcher.on('error', onError);
  return { close: () => watcher.close() };
};
