import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';

describe('configuration from the environment', () => {
  it('has defaults for everything, so a bare `npm start` works', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, databaseUrl: null, redisUrl: null, secret: null, defaultQuotaBytes: 10 * 1024 ** 3 });
    expect(c.rateLimits).toEqual({ devicePerMinute: 1200, workspacePerMinute: 6000, addressPerMinute: 1200 });
  });

  it('reads rate limits by name, keeping the defaults of those not given', () => {
    expect(loadConfig({ STRATA_RATE_LIMITS: 'address=50000, device=10' }).rateLimits).toEqual({ devicePerMinute: 10, workspacePerMinute: 6000, addressPerMinute: 50000 });
  });

  it('refuses what it cannot use, saying why', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ STRATA_RATE_LIMITS: 'device=0' })).toThrow(/positive whole number/);
    expect(() => loadConfig({ STRATA_RATE_LIMITS: 'planet=3' })).toThrow(/unknown limit planet/);
    expect(() => loadConfig({ ESDB_URL: 'esdb://localhost:2113' })).toThrow(/EventStoreDB event log adapter is not available yet/);
  });
});
