import { benchBurst } from './burst.js';
import { benchChunking } from './chunking.js';
import { benchClient } from './client.js';
import { benchCommits } from './commits.js';
import { benchIngest } from './ingest.js';
import { benchPropagation } from './propagation.js';
import { benchRebuild } from './rebuild.js';

/** `npm run bench -- <name...>`: runs the named benchmarks (all when none is named). */
const benches: Record<string, () => Promise<void>> = {
  commits: () => benchCommits(Number(process.env.BENCH_SECONDS ?? 5)),
  propagation: benchPropagation,
  ingest: benchIngest,
  burst: benchBurst,
  rebuild: benchRebuild,
  chunking: benchChunking,
  client: benchClient,
};

const main = async () => {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in benches));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  for (const name of names.length > 0 ? names : Object.keys(benches)) await (benches[name] as () => Promise<void>)();
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
