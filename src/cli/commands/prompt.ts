import readline from 'node:readline';
import { CliError, type CliIo } from '../command.js';

/**
 * The password from --password, else asked for on the terminal without echo, else read as the
 * first line of a piped stdin (`echo pw | strata login ...`).
 */
export const passwordFrom = async (given: unknown, io: CliIo, label = 'Password'): Promise<string> => {
  if (typeof given === 'string' && given !== '') return given;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const rl = readline.createInterface({ input: stdin, terminal: false });
    for await (const line of rl) {
      rl.close();
      if (line !== '') return line;
    }
    throw new CliError('a password is needed: --password, or type it when asked, or pipe it on stdin');
  }
  io.err.write(`${label}: `);
  return new Promise<string>((resolve, reject) => {
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error: CliError | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      io.err.write('\n');
      if (error === null) resolve(typed);
      else reject(error);
    };
    const onData = (key: string) => {
      for (const ch of key) {
        if (ch === '\r' || ch === '\n') return done(typed === '' ? new CliError('no password given') : null);
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
};
