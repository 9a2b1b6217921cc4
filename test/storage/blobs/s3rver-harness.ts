import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as Minio from 'minio';
import S3rver from 's3rver';

export interface RunningS3rver {
  readonly port: number;
  /**
   * A minio client for this server (s3rver's built-in S3RVER/S3RVER account). Without keep-alive,
   * a call after stop() fails with ECONNREFUSED rather than, at random, a pooled socket's hang-up.
   */
  client(options?: { keepAlive?: boolean }): Minio.Client;
  stop(): Promise<void>;
  /** Starts it again on the same port and data, after stop(). */
  restart(): Promise<void>;
  /** Stops it (when running) and removes its data. */
  dispose(): Promise<void>;
}

/** A real s3rver on loopback. It checks neither signatures nor checksums: tests must not rely on either. */
export const startS3rver = async (): Promise<RunningS3rver> => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-s3rver-'));
  const launch = async (port: number): Promise<{ server: S3rver; port: number }> => {
    const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory });
    return { server, port: (await server.run()).port };
  };
  let running: S3rver | null;
  const first = await launch(0);
  running = first.server;
  const stop = async (): Promise<void> => {
    await running?.close();
    running = null;
  };
  return {
    port: first.port,
    client: (options) =>
      new Minio.Client({
        transportAgent: new http.Agent({ keepAlive: options?.keepAlive ?? true }),
        endPoint: '127.0.0.1',
        port: first.port,
        useSSL: false,
        accessKey: 'S3RVER',
        secretKey: 'S3RVER',
        region: 'us-east-1',
      }),
    stop,
    restart: async () => {
      running = (await launch(first.port)).server;
    },
    dispose: async () => {
      await stop();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
};
