#!/usr/bin/env node
// The `strata` command: runs the TypeScript CLI through tsx, so there is no build step to forget.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// tsx resolved from this package, not from the current folder: `strata` works from anywhere.
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/cli/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
// A signal sent to this wrapper alone (a service manager's SIGTERM, `kill`) goes on to the command,
// which stops cleanly; the wrapper exits as the command does, never leaving it running orphaned.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
