import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per server instance (no global default registry), so tests can run several in one process. */
export const createMetrics = () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({ name: 'strata_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    httpDuration: new Histogram({
      name: 'strata_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    commands: new Counter({ name: 'strata_commands_total', help: 'Workspace commands by outcome', labelNames: ['type', 'outcome'], registers: [registry] }),
    sockets: new Gauge({ name: 'strata_sync_sockets', help: 'Connected sync sockets on this node', registers: [registry] }),
    bytesIn: new Counter({ name: 'strata_bytes_in_total', help: 'Chunk bytes received', registers: [registry] }),
    bytesOut: new Counter({ name: 'strata_bytes_out_total', help: 'Chunk and file bytes sent', registers: [registry] }),
    ready: new Gauge({ name: 'strata_ready', help: '1 when every dependency answered the last readiness check', registers: [registry] }),
    // The changes feed and its in-memory cache (issue #6).
    changesLogReads: new Counter({ name: 'strata_changes_log_reads_total', help: 'Reads of the event log made to answer the changes feed (every request when the cache is off)', registers: [registry] }),
    changesCacheHits: new Counter({ name: 'strata_changes_cache_hits_total', help: 'Changes answers served from memory without waiting for the log', registers: [registry] }),
    changesCacheMisses: new Counter({ name: 'strata_changes_cache_misses_total', help: 'Changes answers that waited for a read of the log (their own or a shared one)', registers: [registry] }),
    changesCacheBytes: new Gauge({ name: 'strata_changes_cache_bytes', help: 'Bytes held by the changes cache (events and encoded pages)', registers: [registry] }),
    changesCacheEvictions: new Counter({ name: 'strata_changes_cache_evictions_total', help: 'Blocks of events and pages evicted from the changes cache to stay within its budget', registers: [registry] }),
  };
};

export type Metrics = ReturnType<typeof createMetrics>;
