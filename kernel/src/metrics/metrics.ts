/**
 * Prometheus metrics (prom-client), one registry per kernel so that several kernels in one process
 * (tests) do not collide.
 */
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client'

export class Metrics {
  readonly registry = new Registry()
  readonly httpRequests: Counter<'registry' | 'method' | 'status'>
  readonly httpDuration: Histogram<'registry'>
  /** Proxy cache lookups answered from the cache (`kind`: metadata or artifact). */
  readonly cacheHits: Counter<'registry' | 'kind'>
  /** Proxy cache lookups that needed the upstream. */
  readonly cacheMisses: Counter<'registry' | 'kind'>
  /** Metadata served stale because the upstream failed. */
  readonly cacheStale: Counter<'registry'>
  /** Artifact bytes sent to clients, by `source`: cache or upstream. */
  readonly cacheBytesServed: Counter<'registry' | 'source'>
  readonly upstreamFetches: Counter<'registry' | 'kind'>
  readonly upstreamFailures: Counter<'registry' | 'kind'>
  readonly digestMismatches: Counter<'registry'>
  /** Cached artifacts removed by eviction, by `reason` (ttl, idle, keep_latest, max_size). */
  readonly cacheEvictions: Counter<'registry' | 'reason'>

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
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers: [this.registry] })
    this.cacheHits = counter('batlehub_cache_hits_total', 'Proxy cache hits by registry and kind (metadata, artifact)', ['registry', 'kind'])
    this.cacheMisses = counter('batlehub_cache_misses_total', 'Proxy cache misses by registry and kind (metadata, artifact)', ['registry', 'kind'])
    this.cacheStale = counter('batlehub_cache_stale_served_total', 'Metadata documents served stale because the upstream failed', ['registry'])
    this.cacheBytesServed = counter('batlehub_cache_served_bytes_total', 'Artifact bytes sent to clients by registry and source (cache, upstream)', ['registry', 'source'])
    this.upstreamFetches = counter('batlehub_upstream_fetches_total', 'Upstream fetches by registry and kind (metadata, artifact)', ['registry', 'kind'])
    this.upstreamFailures = counter('batlehub_upstream_failures_total', 'Failed upstream fetches by registry and kind (metadata, artifact)', ['registry', 'kind'])
    this.digestMismatches = counter('batlehub_cache_digest_mismatches_total', 'Upstream artifacts refused because a declared digest did not match', ['registry'])
    this.cacheEvictions = counter('batlehub_cache_evictions_total', 'Cached artifacts evicted by registry and reason', ['registry', 'reason'])
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'batlehub_' })
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
