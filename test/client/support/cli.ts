import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../../..');

export interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the process ends: its exit code (null when killed) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `strata ...` as a real process (node + tsx on src/cli/main.ts, as bin/strata.js runs it). */
export const strata = (args: readonly string[], env: Record<string, string> = {}): Run => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    env: { ...process.env, STRATA_STABLE_MS: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => text, exited };
};

/** Runs strata to its end; answers its exit code and everything it printed. */
export const strataDone = async (args: readonly string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; output: string }> => {
  const run = strata(args, env);
  run.child.stdin?.end(input ?? '');
  const { code } = await run.exited;
  return { code, output: run.output() };
};

export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 10): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
};
