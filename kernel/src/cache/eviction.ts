/**
 * Artifact eviction (seed "Cache policy · Eviction"), per registry, strategies composing — an
 * artifact goes as soon as any active strategy selects it:
 *
 * - `artifact_ttl_secs`: cached longer ago than this;
 * - `idle_days`: not accessed (or, never accessed, not cached) for this many days;
 * - `keep_latest_n`: only the N most recently cached versions of each package stay;
 * - `max_size_bytes`: past the cap, least recently used artifacts go until the registry fits.
 *
 * Only what the proxy cache recorded (`cached_artifacts`) is ever evicted; local packages never.
 * On PostgreSQL a transaction-scoped advisory lock makes exactly one replica run a pass.
 */
import type { LoggerService } from '@batlehub/sdk'
import type { RegistryCache } from './engine.ts'
import type { CacheManager } from './manager.ts'

export interface EvictionReport {
  registry: string
  ttl: number
  idle: number
  keep_latest: number
  max_size: number
}

const DAY = 86_400_000
const PAGE = 500
/** Arbitrary but fixed: the advisory lock id of the eviction job. */
const LOCK_ID = 0x6268_6576 // "bhev"

export class Eviction {
  private running: Promise<EvictionReport[]> | undefined

  constructor(private readonly m: CacheManager, private readonly log: LoggerService) {}

  /** Whether any registry has an eviction strategy. */
  configured(): boolean {
    return [...this.m.registries.values()].some((e) => active(e))
  }

  /** One pass over every registry; a pass already running is joined. */
  runAll(): Promise<EvictionReport[]> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async pass(): Promise<EvictionReport[]> {
    // Accesses still in memory decide what is idle and least recently used.
    await this.m.flush().catch(() => {})
    const engines = [...this.m.registries.values()].filter(active)
    if (engines.length === 0) return []
    const work = async () => {
      const reports: EvictionReport[] = []
      for (const engine of engines) {
        try {
          reports.push(await this.evict(engine))
        } catch (err) {
          this.log.warn('eviction of a registry failed', { registry: engine.name, error: (err as Error).message })
        }
      }
      return reports
    }
    const s = this.m.sql
    if (!s.pg) return work()
    return s.db.em().transactional(async (em) => {
      const rows = await em.execute<Array<{ ok: boolean }>>('select pg_try_advisory_xact_lock(?) as ok', [LOCK_ID], 'all')
      if (!rows[0]?.ok) {
        this.log.debug('another replica is evicting')
        return []
      }
      return work()
    })
  }

  /** Applies a registry's strategies once. */
  async evict(engine: RegistryCache): Promise<EvictionReport> {
    const c = engine.config.cache
    const s = this.m.sql
    const t = s.table('cached_artifacts')
    const now = this.m.clock.now()
    const report: EvictionReport = { registry: engine.name, ttl: 0, idle: 0, keep_latest: 0, max_size: 0 }
    const drain = async (select: string, params: unknown[], reason: keyof Omit<EvictionReport, 'registry'>) => {
      for (;;) {
        const rows = await s.execute(`${select} limit ${PAGE}`, params)
        if (rows.length === 0) return
        const n = await this.m.dropArtifacts(engine, rows, reason)
        report[reason] += n
        if (n === 0 || rows.length < PAGE) return
      }
    }
    if (c.artifact_ttl_secs !== undefined) {
      await drain(`select id, storage_key from ${t} where registry = ? and cached_at < ? order by id`,
        [engine.name, s.time(now - c.artifact_ttl_secs * 1000)], 'ttl')
    }
    if (c.idle_days !== undefined) {
      await drain(`select id, storage_key from ${t} where registry = ? and coalesce(last_accessed_at, cached_at) < ? order by id`,
        [engine.name, s.time(now - c.idle_days * DAY)], 'idle')
    }
    if (c.keep_latest_n !== undefined) {
      const packages = await s.execute(
        `select package_name from ${t} where registry = ? and package_version is not null
         group by package_name having count(distinct package_version) > ?`, [engine.name, c.keep_latest_n])
      for (const p of packages) {
        const versions = await s.execute(
          `select package_version, max(cached_at) as newest from ${t} where registry = ? and package_name = ? and package_version is not null
           group by package_version order by max(cached_at) desc, package_version desc`, [engine.name, p.package_name])
        for (const v of versions.slice(c.keep_latest_n)) {
          const rows = await s.execute(`select id, storage_key from ${t} where registry = ? and package_name = ? and package_version = ?`,
            [engine.name, p.package_name, v.package_version])
          report.keep_latest += await this.m.dropArtifacts(engine, rows, 'keep_latest')
        }
      }
    }
    if (c.max_size_bytes !== undefined) {
      const sum = await s.execute(`select coalesce(sum(size), 0) as total from ${t} where registry = ?`, [engine.name])
      let total = Number(sum[0]?.total ?? 0)
      while (total > c.max_size_bytes) {
        const rows = await s.execute(
          `select id, storage_key, size from ${t} where registry = ? order by coalesce(last_accessed_at, cached_at), id limit ${PAGE}`, [engine.name])
        if (rows.length === 0) break
        const victims: Array<Record<string, unknown>> = []
        for (const row of rows) {
          if (total <= c.max_size_bytes) break
          victims.push(row)
          total -= Number(row.size)
        }
        const n = await this.m.dropArtifacts(engine, victims, 'max_size')
        report.max_size += n
        if (n === 0) break
      }
    }
    if (report.ttl + report.idle + report.keep_latest + report.max_size > 0) this.log.info('evicted cached artifacts', { ...report })
    return report
  }
}

function active(engine: RegistryCache): boolean {
  const c = engine.config.cache
  return engine.config.mode !== 'local'
    && (c.artifact_ttl_secs !== undefined || c.idle_days !== undefined || c.keep_latest_n !== undefined || c.max_size_bytes !== undefined)
}
