import { login, signup } from '../../client/account.js';
import { CliError, type CliCommand } from '../command.js';
import { explain, stringOption } from './errors.js';
import { passwordFrom } from './prompt.js';

export const signupCommand: CliCommand = {
  path: ['signup'],
  summary: 'Create an account (and its workspace) on a Strata server',
  usage: '--server URL --email EMAIL [--password PASSWORD]',
  options: { server: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } },
  run: async ({ values }, io) => {
    const server = stringOption(values, 'server');
    const email = stringOption(values, 'email');
    try {
      const answer = await signup(server, email, await passwordFrom(values.password, io));
      io.out.write(`account created for ${email} (workspace ${answer.workspaceId})\n`);
      return 0;
    } catch (e) {
      throw explain(e);
    }
  },
};

export const loginCommand: CliCommand = {
  path: ['login'],
  summary: 'Sign this device in and make DIR a synced folder',
  usage: '--server URL --email EMAIL [--password PASSWORD] --device NAME DIR',
  options: { server: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, device: { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    const server = stringOption(values, 'server');
    const email = stringOption(values, 'email');
    const deviceName = stringOption(values, 'device');
    const [dir, ...extra] = positionals;
    if (dir === undefined || extra.length > 0) throw new CliError('give exactly one folder: strata login ... DIR');
    try {
      const config = await login({ server, email, password: await passwordFrom(values.password, io), deviceName, dir });
      io.out.write(`${dir} is now synced as device "${config.deviceName}" of ${config.email}; run \`strata sync ${dir}\`\n`);
      return 0;
    } catch (e) {
      throw explain(e);
    }
  },
};
