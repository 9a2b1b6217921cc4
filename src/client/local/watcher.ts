import path from 'node:path';
import watcher from '@parcel/watcher';
import { STATE_DIR } from '../state/layout.js';

/** What happened to a path: made (a file or folder), changed, or gone. */
export type WatchEvent = 'create' | 'update' | 'delete';

/**
 * Calls onChange after anything under root changes (this device's .strata/ aside), with what and
 * where. Events only say "scan soon"; the scan compares with the synced base, so a missed or
 * duplicated event costs nothing but latency (the periodic rescan catches the missed ones).
 *
 * @parcel/watcher (native, one recursive inotify tree, events in batches) rather than chokidar:
 * chokidar's Node handler re-reads a directory and lstats every entry on each change in it, so a
 * device receiving 10,000 files into folders of 100 spent ~4 CPU-seconds in its watcher alone.
 */
export const watchFolder = (root: string, onChange: (event: WatchEvent, file: string) => void, onError: (e: unknown) => void): { close(): Promise<void> } => {
  const subscribed = watcher
    .subscribe(
      root,
      (error, events) => {
        if (error) onError(error);
        for (const e of events) onChange(e.type, e.path);
      },
      { ignore: [path.join(root, STATE_DIR)] },
    )
    .catch((e: unknown) => {
      onError(e);
      return null;
    });
  return { close: async () => void (await (await subscribed)?.unsubscribe()) };
};
