import fs from 'node:fs/promises';
import { LoginAnswer, SignupAnswer, WorkspaceAnswer } from './api/codecs.js';
import { createHttp } from './api/http.js';
import { tokensFrom, writeTokens } from './api/session.js';
import { FolderProblem, layoutOf, readConfig, writeConfig, type ClientConfig } from './state/layout.js';

/** Creates an account (and its workspace) on the server. */
export const signup = async (server: string, email: string, password: string) =>
  createHttp(server, null).json('POST', '/v1/auth/signup', SignupAnswer, { body: { email, password }, auth: false });

/**
 * Signs this device in and makes dir its synced folder: config and tokens (0600) in dir/.strata/.
 * Logging in again into a folder of the same workspace replaces its device and tokens and keeps
 * its sync state; a folder of another account or server is refused.
 */
export const login = async (options: { server: string; email: string; password: string; deviceName: string; dir: string }): Promise<ClientConfig> => {
  const layout = layoutOf(options.dir);
  const server = options.server.replace(/\/+$/, '');
  const existing = await readConfig(layout).catch(() => null);
  const http = createHttp(server, null);
  const answer = await http.json('POST', '/v1/auth/login', LoginAnswer, {
    body: { email: options.email, password: options.password, deviceName: options.deviceName },
    auth: false,
  });
  if (existing !== null && (existing.server !== server || existing.workspaceId !== answer.workspaceId))
    throw new FolderProblem(`${layout.root} is already synced with another account or server (${existing.email} on ${existing.server}); pick another folder.`);
  const workspace = await http.json('GET', `/v1/workspaces/${encodeURIComponent(answer.workspaceId)}`, WorkspaceAnswer, {
    headers: { authorization: `Bearer ${answer.accessToken}` },
    auth: false,
  });
  await fs.mkdir(layout.root, { recursive: true });
  await fs.mkdir(layout.stateDir, { recursive: true, mode: 0o700 });
  await fs.chmod(layout.stateDir, 0o700);
  await fs.mkdir(layout.journalDir, { recursive: true });
  await fs.mkdir(layout.tmp, { recursive: true });
  await writeTokens(layout, tokensFrom(answer));
  const config: ClientConfig = {
    version: 1,
    server,
    email: options.email,
    workspaceId: answer.workspaceId,
    rootId: workspace.rootId,
    userId: answer.userId,
    deviceId: answer.deviceId,
    deviceName: options.deviceName,
  };
  // The config is the folder's marker: written last, so a folder with one has tokens too.
  await writeConfig(layout, config);
  return config;
};
