import fs from 'node:fs/promises';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { isErrno, readJsonFile, writeFileAtomic } from './files.js';

/** Name of the folder, inside every synced folder, that holds this device's tokens and sync state. Never synced. */
export const STATE_DIR = '.strata';

/** Where everything of one synced folder lives. */
export interface Layout {
  readonly root: string;
  readonly stateDir: string;
  readonly config: string;
  readonly tokens: string;
  readonly tokensLock: string;
  readonly syncLock: string;
  readonly journalDir: string;
  readonly tmp: string;
}

export const layoutOf = (dir: string): Layout => {
  const root = path.resolve(dir);
  const stateDir = path.join(root, STATE_DIR);
  return {
    root,
    stateDir,
    config: path.join(stateDir, 'config.json'),
    tokens: path.join(stateDir, 'tokens.json'),
    tokensLock: path.join(stateDir, 'tokens.lock'),
    syncLock: path.join(stateDir, 'sync.lock'),
    journalDir: path.join(stateDir, 'state'),
    tmp: path.join(stateDir, 'tmp'),
  };
};

/** What login records about a synced folder: where its server is and who this device is. */
export const ClientConfig = t.type(
  {
    version: t.literal(1),
    server: t.string,
    email: t.string,
    workspaceId: t.string,
    rootId: t.string,
    userId: t.string,
    deviceId: t.string,
    deviceName: t.string,
  },
  'ClientConfig',
);
export type ClientConfig = t.TypeOf<typeof ClientConfig>;

/** A synced folder that cannot be used as it is; the message says why and what to do. */
export class FolderProblem extends Error {
  override readonly name = 'FolderProblem';
}

const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, value: unknown, file: string): A => {
  const decoded = codec.decode(value);
  if (E.isLeft(decoded)) throw new FolderProblem(`${file} is damaged: ${PathReporter.report(decoded).join('; ')}`);
  return decoded.right;
};

export const readConfig = async (layout: Layout): Promise<ClientConfig | null> => {
  const raw = await readJsonFile(layout.config);
  return raw === null ? null : decodeOrThrow(ClientConfig, raw, layout.config);
};

export const writeConfig = (layout: Layout, config: ClientConfig): Promise<void> => writeFileAtomic(layout.config, JSON.stringify(config, null, 2));

/**
 * The safety check before any sync: the folder exists and still carries its marker. A missing
 * folder or marker is an unmounted disk or a moved folder, never "the user deleted everything".
 */
export const openSyncedFolder = async (dir: string): Promise<{ layout: Layout; config: ClientConfig }> => {
  const layout = layoutOf(dir);
  let stat;
  try {
    stat = await fs.stat(layout.root);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new FolderProblem(`${layout.root} does not exist (an unmounted disk?). Nothing was synced and nothing was deleted.`);
    throw e;
  }
  if (!stat.isDirectory()) throw new FolderProblem(`${layout.root} is not a folder. Nothing was synced and nothing was deleted.`);
  const config = await readConfig(layout);
  if (config === null)
    throw new FolderProblem(
      `${layout.root} has no ${STATE_DIR}/ marker: it is not a synced folder, or the disk holding it is not mounted. ` +
        `Nothing was synced and nothing was deleted. Mount the disk, or run \`strata login ... ${dir}\` to make it a synced folder.`,
    );
  await fs.mkdir(layout.tmp, { recursive: true });
  await fs.mkdir(layout.journalDir, { recursive: true });
  return { layout, config };
};
