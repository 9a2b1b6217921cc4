import { Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';

/** A writable that keeps what it is given, and counts the writes. */
export class Captured extends Writable {
  text = '';
  writes = 0;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.writes++;
    done();
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

/** Runs `strata ...` in process with captured output. */
export const cli = async (argv: readonly string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: Captured; err: Captured }> => {
  const out = new Captured();
  const err = new Captured();
  const io: CliIo = { out, err, env, interactive: false };
  const code = await runCli(argv, io);
  return { code, out, err };
};
