/**
 * Prometheus metrics (prom-client), one registry per kernel so that several kernels in one process
 * (tests) do not collide.
 */
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client'

export class Metrics {
  readonly registry = new Registry()
  readonly httpRequests: Counter<'registry' | 'method' | 'status'>
  readonly httpDuration: Histogram<'registry'>

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.httpRequests = new Counter({
      name: 'batlehub_http_requests_total',
      help: 'HTTP requests by registry (or "api", "system"), method and status',
      labelNames: ['registry', 'method', 'status'],
      registers: [this.registry],
    })
    this.httpDuration = new Histogram({
      name: 'batlehub_http_request_duration_seconds',
      help: 'HTTP request latency by registry (or "api", "system")',
      labelNames: ['registry'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    })
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'batlehub_' })
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
