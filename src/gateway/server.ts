import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { BlobStoreUnavailableError } from '../storage/blobs/errors.js';
import type { GatewayDeps, RouteModule } from './deps.js';
import { ApiError, sendApiError } from './http/errors.js';
import { healthRoutes } from './routes/health.js';

const fastifyErrorToApi = (e: FastifyError): ApiError => {
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('payload_too_large', 'The request body is too large.');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('invalid_request', 'Unsupported Content-Type.', { reason: 'content_type' });
  if (e.code?.startsWith('FST_ERR_CTP') || (e.statusCode === 400 && e.code !== undefined))
    return new ApiError('invalid_request', `Malformed request body: ${e.message}`, { reason: 'malformed_body' });
  if (e.statusCode === 429) return new ApiError('rate_limited', 'Too many requests; slow down.', {}, 1);
  if (e.statusCode === 404) return new ApiError('not_found', e.message);
  return new ApiError('unavailable', 'Internal error.');
};

/** The HTTP server: io-ts decodes every input, so fastify's own schema validation is switched off. */
export const buildServer = async (deps: GatewayDeps, modules: readonly RouteModule[]): Promise<FastifyInstance> => {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: 'x-request-id',
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  // The route schemas exist for /docs only: they are generated from the io-ts codecs that decode.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) return sendApiError(reply, error);
    if (error instanceof BlobStoreUnavailableError) {
      request.log.warn({ err: error }, 'blob store unavailable');
      return sendApiError(reply, new ApiError('unavailable', 'File storage is unavailable; try again shortly.', {}, error.retryAfterSeconds));
    }
    const api = fastifyErrorToApi(error as FastifyError);
    if (api.status >= 500) request.log.error({ err: error }, 'unhandled error');
    return sendApiError(reply, api);
  });
  // details.reason tells "this server has no such call" from "no such resource" (a device falls back to older calls).
  app.setNotFoundHandler((request, reply) =>
    sendApiError(reply, new ApiError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`, { reason: 'no_route' })),
  );
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Strata API', version: '1', description: 'Event-sourced file sync. The contract: shared/docs/api-v1.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  healthRoutes(app, deps.readiness, deps.metrics);
  for (const register of modules) await register(app, deps);
  return app;
};
