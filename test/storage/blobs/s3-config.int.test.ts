import { describe, expect, it } from 'vitest';
import { s3ConfigFromEnv, S3ConfigError } from '../../../src/storage/blobs/s3.js';

const complete = {
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_BUCKET: 'strata-chunks',
  S3_ACCESS_KEY: 'minioadmin',
  S3_SECRET_KEY: 'minio-secret',
};

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    s3ConfigFromEnv(env);
  } catch (error) {
    if (error instanceof S3ConfigError) return error.problems;
    throw error;
  }
  return expect.unreachable('no S3ConfigError');
};

describe('an environment without S3 settings', () => {
  it('asks for no S3 store', () => {
    expect(s3ConfigFromEnv({ PATH: '/usr/bin', S3_REGION: '' })).toBeNull();
  });
});

describe('an environment with S3 settings', () => {
  it('gives client options and bucket', () => {
    expect(s3ConfigFromEnv(complete)).toEqual({
      bucket: 'strata-chunks',
      client: { endPoint: '127.0.0.1', port: 9000, useSSL: false, accessKey: 'minioadmin', secretKey: 'minio-secret', region: 'us-east-1' },
    });
  });

  it('defaults the port from the scheme and takes S3_REGION', () => {
    const config = s3ConfigFromEnv({ ...complete, S3_ENDPOINT: 'https://s3.eu-west-3.amazonaws.com', S3_REGION: 'eu-west-3' });
    expect(config?.client).toMatchObject({ endPoint: 's3.eu-west-3.amazonaws.com', port: 443, useSSL: true, region: 'eu-west-3' });
  });

  it('lists every missing setting at once', () => {
    expect(problemsOf({ S3_ENDPOINT: 'http://minio:9000' })).toEqual([
      'S3_BUCKET is not set',
      'S3_ACCESS_KEY is not set',
      'S3_SECRET_KEY is not set',
    ]);
  });

  it('refuses an endpoint that is not scheme://host[:port]', () => {
    expect(problemsOf({ ...complete, S3_ENDPOINT: 'minio:9000' })).toEqual([expect.stringMatching(/must be http\(s\)/)]);
    expect(problemsOf({ ...complete, S3_ENDPOINT: 'not a url' })).toEqual([expect.stringMatching(/not a URL/)]);
    expect(problemsOf({ ...complete, S3_ENDPOINT: 'http://minio:9000/strata-chunks' })).toEqual([expect.stringMatching(/S3_BUCKET/)]);
  });
});
