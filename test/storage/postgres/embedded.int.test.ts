import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

describe('the embedded Postgres', () => {
  // The package behind it installs process-wide exit and signal hooks when loaded; one of them
  // exits 0 on 'beforeExit', which turned failing test runs into passing ones.
  it('leaves the process its own exit code and signal handling once started and stopped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-embedded-'));
    fs.chmodSync(dir, 0o755);
    const script = path.join(dir, 'probe.mts');
    fs.writeFileSync(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(path.join(root, 'src/storage/postgres/embedded.ts'))};
       const hooks = () => ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'].map((e) => process.listenerCount(e)).join(',');
       const before = hooks();
       const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(path.join(dir, 'data', 'pg'))}, port: 0 });
       await pg.stop();
       console.log(before === hooks() ? 'no hooks left' : 'hooks: ' + before + ' -> ' + hooks());
       process.exitCode = 3;`,
    );
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(run.stdout.trim()).toBe('no hooks left');
      expect(run.stderr).not.toMatch(/TypeError/);
      expect(run.status).toBe(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
