import type * as Minio from 'minio';

export interface S3Config {
  readonly client: Minio.ClientOptions;
  readonly bucket: string;
}

/** The S3 environment is partly set or malformed; every problem is listed, not just the first. */
export class S3ConfigError extends Error {
  override readonly name = 'S3ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid S3 configuration: ${problems.join('; ')}`);
  }
}

const REQUIRED = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const;
const ALL = [...REQUIRED, 'S3_REGION'] as const;

const parseEndpoint = (raw: string, problems: string[]): Pick<Minio.ClientOptions, 'endPoint' | 'port' | 'useSSL'> | null => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`S3_ENDPOINT is not a URL: ${raw}`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`S3_ENDPOINT must be http(s)://host[:port]: ${raw}`);
    return null;
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '')
    problems.push(`S3_ENDPOINT must be scheme://host[:port] only (the bucket goes in S3_BUCKET): ${raw}`);
  const useSSL = url.protocol === 'https:';
  return { endPoint: url.hostname, port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port), useSSL };
};

/**
 * Reads S3_ENDPOINT (e.g. http://127.0.0.1:9000), S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY and
 * S3_REGION (default us-east-1). Null when none is set: the server then keeps chunks on disk.
 */
export const s3ConfigFromEnv = (env: Readonly<Record<string, string | undefined>>): S3Config | null => {
  const value = (name: (typeof ALL)[number]): string => env[name]?.trim() ?? '';
  if (ALL.every((name) => value(name) === '')) return null;
  const problems = REQUIRED.filter((name) => value(name) === '').map((name) => `${name} is not set`);
  const endpoint = value('S3_ENDPOINT') === '' ? null : parseEndpoint(value('S3_ENDPOINT'), problems);
  if (problems.length > 0 || endpoint === null) throw new S3ConfigError(problems);
  return {
    bucket: value('S3_BUCKET'),
    client: {
      ...endpoint,
      accessKey: value('S3_ACCESS_KEY'),
      secretKey: value('S3_SECRET_KEY'),
      // Known up front, so the client never spends a request asking the bucket for its region.
      region: value('S3_REGION') || 'us-east-1',
    },
  };
};
