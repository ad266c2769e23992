import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** One Prometheus registry per server instance (tests start several in one process). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'mlnode_' })
  return {
    registry,
    requests: new Counter({
      name: 'mlnode_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mlnode_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'mlnode_batch_size',
      help: 'Items per model run (dynamic batching)',
      labelNames: ['model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'mlnode_queue_depth',
      help: 'Items waiting per model queue',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'mlnode_rejected_total',
      help: 'Requests refused for overload or timeout',
      labelNames: ['model', 'reason'] as const,
      registers: [registry],
    }),
    modelLoadSeconds: new Gauge({
      name: 'mlnode_model_load_seconds',
      help: 'Time taken to load each model',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'mlnode_tokens_total',
      help: 'Tokens processed by model and kind (prompt, completion, embedding)',
      labelNames: ['model', 'kind'] as const,
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
