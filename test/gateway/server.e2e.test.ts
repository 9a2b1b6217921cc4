import { describe, expect, it } from 'vitest';
import { api, useGateway, type TestGateway } from '../support/gateway.js';

describe('a running gateway', () => {
  let gw: TestGateway;
  useGateway((_db, g) => (gw = g));

  it('is alive, ready with its database and blob store, and exposes Prometheus metrics', async () => {
    const http = api(gw.url);
    expect((await http.get('/healthz')).status).toBe(200);
    const ready = await http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { database: { ok: true }, blobs: { ok: true } } });
    const metrics = await fetch(`${gw.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toMatch(/strata_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1/);
  });

  it('publishes its OpenAPI document and a browsable page', async () => {
    const doc = await api(gw.url).get('/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.0.3');
    expect((await fetch(`${gw.url}/docs`)).status).toBeLessThan(400);
  });

  it('answers unknown routes with the error envelope', async () => {
    const res = await api(gw.url).get('/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('not_found');
  });
});
