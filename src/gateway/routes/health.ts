import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

/** A dependency readiness depends on: resolves when reachable, rejects (or times out) when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const withTimeout = (p: Promise<void>, ms: number): Promise<void> =>
  Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

export const healthRoutes = (app: FastifyInstance, checks: readonly ReadinessCheck[], metrics: Metrics): void => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2000);
          return [c.name, { ok: true }] as const;
        } catch (e) {
          return [c.name, { ok: false, error: e instanceof Error ? e.message : String(e) }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.ok);
    metrics.ready.set(ready ? 1 : 0);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });

  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
