import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, type CliCommand, type CliIo } from './command.js';
import { commands } from './commands/index.js';

const help = (list: readonly CliCommand[]): string =>
  ['usage: strata <command> [options]', '', ...list.map((c) => `  strata ${c.path.join(' ').padEnd(28)} ${c.summary}`), '', 'strata <command> --help for its options.'].join('\n');

/** Finds the longest command path the arguments start with. */
const match = (argv: readonly string[], list: readonly CliCommand[]): { command: CliCommand; rest: string[] } | null => {
  const sorted = [...list].sort((a, b) => b.path.length - a.path.length);
  for (const command of sorted)
    if (command.path.every((word, i) => argv[i] === word)) return { command, rest: argv.slice(command.path.length) };
  return null;
};

export const runCli = async (argv: readonly string[], io: CliIo, list: readonly CliCommand[] = commands): Promise<number> => {
  const found = match(argv, list);
  if (found === null) {
    (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' ? io.out : io.err).write(`${help(list)}\n`);
    return argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' ? 0 : 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out.write(`usage: strata ${command.path.join(' ')} ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    return await command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals }, io);
  } catch (e) {
    if (e instanceof CliError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      io.err.write(`strata ${command.path.join(' ')}: ${e.message}\n`);
      return e instanceof CliError ? e.exitCode : 2;
    }
    throw e;
  }
};

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env, interactive: process.stderr.isTTY === true }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`strata: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
