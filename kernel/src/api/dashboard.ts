/**
 * Admin dashboard API: cache hits and misses, bandwidth saved, and what each registry holds.
 *
 * @remarks
 * Traffic comes from the proxy/cache engine's Prometheus counters (`batlehub_cache_hits_total`,
 * `batlehub_cache_misses_total`, `batlehub_cache_served_bytes_total`), so the dashboard and
 * `/metrics` never disagree: they count from this process's start. An artifact answered from
 * storage is a hit and its bytes are upstream bandwidth saved. Holdings (cached artifacts and their
 * size, proxied and hosted packages) are read from the database.
 */
import Type from 'typebox'
import type { Clock } from '@batlehub/sdk'
import type { Database } from '../db/orm.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'

interface Traffic {
  hits: number
  misses: number
  metadata_hits: number
  metadata_misses: number
  bytes_from_cache: number
  bytes_from_upstream: number
}

const zero = (): Traffic => ({ hits: 0, misses: 0, metadata_hits: 0, metadata_misses: 0, bytes_from_cache: 0, bytes_from_upstream: 0 })

/** Per-registry traffic since start-up, read from the cache engine's counters. */
export class TrafficStats {
  readonly since: string

  constructor(private readonly metrics: Metrics, clock: Clock) {
    this.since = new Date(clock.now()).toISOString()
  }

  async byRegistry(): Promise<Map<string, Traffic>> {
    const [hits, misses, bytes] = await Promise.all([this.metrics.cacheHits.get(), this.metrics.cacheMisses.get(), this.metrics.cacheBytesServed.get()])
    const out = new Map<string, Traffic>()
    const of = (registry: unknown) => {
      const key = String(registry)
      let t = out.get(key)
      if (!t) out.set(key, (t = zero()))
      return t
    }
    for (const v of hits.values) {
      if (v.labels.kind === 'artifact') of(v.labels.registry).hits += v.value
      else if (v.labels.kind === 'metadata') of(v.labels.registry).metadata_hits += v.value
    }
    for (const v of misses.values) {
      if (v.labels.kind === 'artifact') of(v.labels.registry).misses += v.value
      else if (v.labels.kind === 'metadata') of(v.labels.registry).metadata_misses += v.value
    }
    for (const v of bytes.values) {
      if (v.labels.source === 'cache') of(v.labels.registry).bytes_from_cache += v.value
      else if (v.labels.source === 'upstream') of(v.labels.registry).bytes_from_upstream += v.value
    }
    return out
  }
}

const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0)
const rate = (t: Traffic) => (t.hits + t.misses === 0 ? null : t.hits / (t.hits + t.misses))

const TrafficSchema = {
  hits: Type.Integer({ description: 'Artifacts answered from the cache' }),
  misses: Type.Integer({ description: 'Artifacts fetched from an upstream' }),
  metadata_hits: Type.Integer({ description: 'Metadata documents answered from the cache' }),
  metadata_misses: Type.Integer({ description: 'Metadata documents fetched (or revalidated) upstream' }),
  hit_rate: Type.Union([Type.Number(), Type.Null()], { description: 'hits / (hits + misses); null before any traffic' }),
  bytes_saved: Type.Integer({ description: 'Bytes served from the cache instead of the upstream' }),
  bytes_fetched: Type.Integer({ description: 'Bytes fetched from upstreams on a miss' }),
}

export function registerDashboardApi(api: ApiRouter, deps: { hosts: () => readonly RegistryHost[]; db: () => Database; traffic: () => TrafficStats }): void {
  api.add({
    method: 'GET',
    path: '/api/v1/admin/dashboard',
    summary: 'Cache hits, misses and bandwidth saved per registry and in total, and what each registry holds',
    tags: ['admin'],
    access: 'admin',
    response: Type.Object({
      since: Type.String({ format: 'date-time', description: 'Traffic counters run from this instant (process start)' }),
      totals: Type.Object({ ...TrafficSchema, cached_artifacts: Type.Integer(), cached_bytes: Type.Integer(), packages: Type.Integer() }),
      registries: Type.Array(Type.Object({
        registry: Type.String(),
        type: Type.String(),
        mode: Type.String(),
        ...TrafficSchema,
        cached_artifacts: Type.Integer(),
        cached_bytes: Type.Integer(),
        packages: Type.Integer({ description: 'Distinct package names, proxied or hosted' }),
        local_packages: Type.Integer({ description: 'Of which hosted in this registry' }),
      })),
    }),
    handler: async () => {
      const db = deps.db()
      const t = (name: string) => (db.dialect === 'postgresql' && db.schema ? `"${db.schema.replace(/"/g, '')}"."${name}"` : `"${name}"`)
      const [artifacts, proxied, local] = await Promise.all([
        db.execute(`select registry, count(*) as n, sum(size) as bytes from ${t('cached_artifacts')} group by registry`),
        // A name both proxied and hosted (hybrid) is one package, as in the explorer; the local store
        // counts downloads under the normalised name.
        db.execute(`select u.registry, count(*) as n from (
            select s.registry, coalesce(lp.name, s.package_name) as name from ${t('package_statuses')} s
            left join ${t('local_packages')} lp on lp.registry = s.registry and s.package_name in (lp.name, lp.normalized_name)
          union select registry, name from ${t('local_packages')}) u group by u.registry`),
        db.execute(`select registry, count(*) as n from ${t('local_packages')} group by registry`),
      ])
      const byReg = (rows: Record<string, unknown>[], field: string) => new Map(rows.map((r) => [String(r.registry), num(r[field])]))
      const artN = byReg(artifacts, 'n')
      const artB = byReg(artifacts, 'bytes')
      const pkgN = byReg(proxied, 'n')
      const locN = byReg(local, 'n')
      const traffic = await deps.traffic().byRegistry()
      const registries = deps.hosts().map((h) => {
        const name = h.info.name
        const tr = traffic.get(name) ?? zero()
        return {
          registry: name,
          type: h.info.type,
          mode: h.info.mode,
          hits: tr.hits,
          misses: tr.misses,
          metadata_hits: tr.metadata_hits,
          metadata_misses: tr.metadata_misses,
          hit_rate: rate(tr),
          bytes_saved: tr.bytes_from_cache,
          bytes_fetched: tr.bytes_from_upstream,
          cached_artifacts: artN.get(name) ?? 0,
          cached_bytes: artB.get(name) ?? 0,
          packages: pkgN.get(name) ?? 0,
          local_packages: locN.get(name) ?? 0,
        }
      })
      const sum = (f: (r: (typeof registries)[number]) => number) => registries.reduce((a, r) => a + f(r), 0)
      const total: Traffic = {
        hits: sum((r) => r.hits), misses: sum((r) => r.misses), metadata_hits: sum((r) => r.metadata_hits), metadata_misses: sum((r) => r.metadata_misses),
        bytes_from_cache: sum((r) => r.bytes_saved), bytes_from_upstream: sum((r) => r.bytes_fetched),
      }
      return {
        since: deps.traffic().since,
        totals: {
          hits: total.hits,
          misses: total.misses,
          metadata_hits: total.metadata_hits,
          metadata_misses: total.metadata_misses,
          hit_rate: rate(total),
          bytes_saved: total.bytes_from_cache,
          bytes_fetched: total.bytes_from_upstream,
          cached_artifacts: sum((r) => r.cached_artifacts),
          cached_bytes: sum((r) => r.cached_bytes),
          packages: sum((r) => r.packages),
        },
        registries,
      }
    },
  })
}
