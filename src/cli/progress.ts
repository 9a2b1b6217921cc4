import cliProgress from 'cli-progress';
import type { CliIo } from './command.js';
import { human } from './units.js';

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar on a terminal (done/total, rate, time left); on a pipe, a plain line now and then,
 * so logs of long operations stay readable.
 */
export const progressBar = (io: CliIo, label: string, total: number, unit: 'events' | 'bytes' | 'files'): Progress => {
  const fmt = (n: number) => (unit === 'bytes' ? human(n) : String(n));
  const started = Date.now();
  // Work can grow while it runs (events appended during a rebuild): the total follows it.
  let known = total;
  if (!io.interactive) {
    let lastLine = 0;
    return {
      update: (done) => {
        known = Math.max(known, done);
        if (Date.now() - lastLine < 5000 && done < known) return;
        lastLine = Date.now();
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        const rate = done / seconds;
        const left = rate > 0 ? Math.round((known - done) / rate) : null;
        io.err.write(`${label}: ${fmt(done)} / ${fmt(known)} ${unit}, ${fmt(Math.round(rate))}/s, ${left === null ? 'time left unknown' : `${left} s left`}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {shown} | {rate}/s | eta {eta_formatted}`,
      stream: io.err as NodeJS.WriteStream,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { shown: `${fmt(0)}/${fmt(total)}`, rate: '0' });
  return {
    update: (done, extra = {}) => {
      if (done > known) {
        known = done;
        bar.setTotal(known);
      }
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(done, { shown: `${fmt(done)}/${fmt(known)}`, rate: fmt(Math.round(done / seconds)), ...extra });
    },
    stop: () => bar.stop(),
  };
};
