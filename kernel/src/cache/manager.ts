/**
 * The kernel's proxy/cache engine: one {@link RegistryCache} (`ctx.cache`) per registry instance,
 * sharing the process-wide parts kept here — the byte-bounded memory caches of metadata documents
 * and of their rendered copies, the single-flight maps, download accounting, metrics — plus the
 * administration behind `/api/v1/admin/...` (clear, invalidate, list, warm) and the background
 * jobs (start-up warming, eviction).
 */
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  InputError, NotFoundError, UnavailableError,
  type ArtifactRequest, type Clock, type LoggerService, type MetadataEntry,
} from '@batlehub/sdk'
import type { RegistryConfig } from '../config/schema.ts'
import type { Database } from '../db/orm.ts'
import type { KernelEventBus } from '../events/bus.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { Cas } from '../storage/cas.ts'
import type { UpstreamHttp } from '../upstream/http.ts'
import type { Accounting } from './accounting.ts'
import { ByteLru } from '../util/byte-lru.ts'
import { RegistryCache, renderPlaceholders, type RegistryCacheOptions, type StoredMetadata } from './engine.ts'
import { Eviction, type EvictionReport } from './eviction.ts'
import { ArtifactFetch, type CommitInfo } from './fetch.ts'
import { isoOf, Sql } from '../db/sql.ts'
import { warmPackage, type WarmResult } from './warming.ts'

export interface CacheManagerOptions {
  db: Database
  bus: KernelEventBus
  metrics: Metrics
  log: LoggerService
  clock: Clock
  /** `server.data_dir`: spool files live in `<data_dir>/spool/`. */
  dataDir: string
  /** `server.upstream_timeout_secs` in ms: also the longest pause inside an upstream body. */
  upstreamTimeoutMs: number
  /** Memory for metadata documents; default 64 MiB. */
  memoryBytes?: number
  /** Memory for rendered (placeholder-replaced) documents; default 64 MiB. */
  renderBytes?: number
  /** The kernel's download accounting (shared with the local stores; the kernel flushes it at close). */
  accounting: Accounting
  /** Eviction period; default 10 minutes. */
  evictionIntervalMs?: number
}

/** One row of the package list (`GET /api/v1/admin/packages`). */
export interface PackageListItem {
  registry: string
  name: string
  version: string | null
  cached: boolean
  size_bytes: number
  download_count: number
  last_accessed: string | null
  cached_at: string | null
}

const NEGATIVE_MAX_ENTRIES = 100_000
const SPOOL_STALE_MS = 3_600_000
const PAGE = 500

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

export class CacheManager {
  readonly registries = new Map<string, RegistryCache>()
  readonly clock: Clock
  readonly metrics: Metrics
  readonly bus: KernelEventBus
  readonly sql: Sql
  readonly accounting: Accounting
  readonly spoolDir: string
  /** Metadata documents by `<registry>\0<key>`. */
  readonly memory: ByteLru<string, StoredMetadata>
  /** Rendered documents by `<sha256>\0<replacements>`. */
  readonly renders: ByteLru<string, { body: Buffer; etag: string }>
  /** sha256 of the bodies this engine handed out, so rendering never hashes them again. */
  readonly bodyHashes = new WeakMap<Buffer, string>()
  /** Expiry (clock ms) of remembered upstream 404s, by `<registry>\0<key>`. */
  readonly negative = new Map<string, number>()
  readonly metadataFlights = new Map<string, Promise<MetadataEntry | null>>()
  readonly artifactFlights = new Map<string, ArtifactFetch>()
  private readonly log: LoggerService
  private readonly eviction: Eviction
  private readonly background = new AbortController()
  private readonly jobs = new Set<Promise<unknown>>()
  private evictionTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(private readonly o: CacheManagerOptions) {
    this.clock = o.clock
    this.metrics = o.metrics
    this.bus = o.bus
    this.log = o.log
    this.sql = new Sql(o.db)
    this.accounting = o.accounting
    this.spoolDir = join(o.dataDir, 'spool')
    mkdirSync(this.spoolDir, { recursive: true })
    this.track(this.sweepSpool())
    this.memory = new ByteLru(o.memoryBytes ?? 64 * 1024 * 1024, (e) => e.body.length + e.key.length + 512)
    this.renders = new ByteLru(o.renderBytes ?? 64 * 1024 * 1024, (r) => r.body.length + 128)
    this.eviction = new Eviction(this, o.log.child({ component: 'eviction' }))
    // Background work starts once the server listens, so it never delays start-up.
    o.bus.on('core:kernel.started', () => this.startBackground(), { id: 'cache-background' })
  }

  /** The engine of one registry instance (`ctx.cache`). */
  forRegistry(config: RegistryConfig, deps: Omit<RegistryCacheOptions, 'config'>): RegistryCache {
    const engine = new RegistryCache(this, { config, ...deps })
    this.registries.set(config.name, engine)
    return engine
  }

  registry(name: string): RegistryCache {
    const engine = this.registries.get(name)
    if (!engine) throw new NotFoundError(`no registry named ${JSON.stringify(name)}`)
    return engine
  }

  // -------------------------------------------------------------------------------------------
  // Shared pieces used by the engines
  // -------------------------------------------------------------------------------------------

  /** The rendered copy of a document for these replacements, memoised. */
  render(body: Buffer, pairs: ReadonlyArray<readonly [string, string]>): { body: Buffer; etag: string } {
    let sha = this.bodyHashes.get(body)
    if (!sha) {
      sha = sha256(body)
      this.bodyHashes.set(body, sha)
    }
    const id = `${sha}\0${JSON.stringify(pairs)}`
    const hit = this.renders.get(id)
    if (hit) return hit
    const rendered = renderPlaceholders(body, pairs)
    const etag = `"${createHash('sha256').update(rendered).digest('base64url')}"`
    const out = { body: rendered, etag }
    this.renders.set(id, out)
    return out
  }

  dropRenders(sha: string): void {
    this.renders.deleteWhere((id) => id.startsWith(`${sha}\0`))
  }

  rememberMissing(id: string, until: number): void {
    this.negative.delete(id)
    this.negative.set(id, until)
    while (this.negative.size > NEGATIVE_MAX_ENTRIES) this.negative.delete(this.negative.keys().next().value as string)
  }

  /** The single-flight fetch of an artifact: the running one, or a new one. */
  artifactFetch(engine: RegistryCache, casKey: string, req: ArtifactRequest): ArtifactFetch {
    const id = `${engine.cas.backend.name}\0${casKey}`
    const running = this.artifactFlights.get(id)
    if (running) return running
    if (this.closed) throw new UnavailableError('the hub is shutting down')
    const registry = engine.name
    this.metrics.upstreamFetches.inc({ registry, kind: 'artifact' })
    const fetch: ArtifactFetch = new ArtifactFetch({
      casKey,
      request: req,
      maxBytes: engine.maxBytesOf(req),
      cas: engine.cas,
      http: engine.http,
      spoolDir: this.spoolDir,
      idleTimeoutMs: this.o.upstreamTimeoutMs,
      log: engine.log,
      onCommitted: (info) => this.recordArtifact(engine, req, info),
      onSettled: () => {
        if (this.artifactFlights.get(id) === fetch) this.artifactFlights.delete(id)
      },
      onBytes: (n) => this.metrics.cacheBytesServed.inc({ registry, source: 'upstream' }, n),
      onDigestMismatch: () => this.metrics.digestMismatches.inc({ registry }),
      onUpstreamFailure: (err) => {
        this.metrics.upstreamFailures.inc({ registry, kind: 'artifact' })
        engine.log.warn('artifact fetch failed; nothing stored', { key: req.key, error: (err as Error)?.message })
      },
    })
    this.artifactFlights.set(id, fetch)
    return fetch
  }

  private async recordArtifact(engine: RegistryCache, req: ArtifactRequest, info: CommitInfo): Promise<void> {
    const s = this.sql
    const now = this.clock.now()
    await s.execute(
      `insert into ${s.table('cached_artifacts')} (registry, storage_key, package_name, package_version, sha256, size, upstream_url, cached_at, last_accessed_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (registry, storage_key) do update set package_name = excluded.package_name, package_version = excluded.package_version,
         sha256 = excluded.sha256, size = excluded.size, upstream_url = excluded.upstream_url, cached_at = excluded.cached_at,
         last_accessed_at = excluded.last_accessed_at`,
      [engine.name, req.key, req.name, req.version ?? null, info.stored.sha256, info.stored.size, info.upstreamUrl, s.time(now), s.time(now)])
    this.bus.emit('core:artifact.cached', {
      registry: engine.name, name: req.name, ...(req.version ? { version: req.version } : {}), key: req.key,
      size: info.stored.size, sha256: info.stored.sha256, at: new Date(now).toISOString(),
    })
  }

  async metadataRow(registry: string, keyHash: string): Promise<Record<string, unknown> | null> {
    const rows = await this.sql.execute(
      `select storage_key, sha256, size, content_type, etag, last_modified, upstream, fetched_at, expires_at, package_name
       from ${this.sql.table('cached_metadata')} where registry = ? and key_hash = ?`, [registry, keyHash])
    return rows[0] ?? null
  }

  async storeMetadata(engine: RegistryCache, entry: StoredMetadata): Promise<void> {
    const s = this.sql
    const storageKey = engine.metadataStorageKey(entry.keyHash)
    await engine.cas.put({ key: storageKey, body: entry.body })
    const lastModified = entry.lastModified && entry.lastModified.length <= 64 ? entry.lastModified : null
    await s.execute(
      `insert into ${s.table('cached_metadata')} (registry, key_hash, cache_key, package_name, storage_key, sha256, size, content_type, etag, last_modified, upstream, fetched_at, expires_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (registry, key_hash) do update set cache_key = excluded.cache_key, package_name = excluded.package_name,
         storage_key = excluded.storage_key, sha256 = excluded.sha256, size = excluded.size, content_type = excluded.content_type,
         etag = excluded.etag, last_modified = excluded.last_modified, upstream = excluded.upstream,
         fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`,
      [engine.name, entry.keyHash, entry.key, entry.name ?? null, storageKey, entry.sha256, entry.body.length,
        entry.contentType.slice(0, 255), entry.etag ?? null, lastModified, entry.upstream, s.time(entry.fetchedAt), s.time(entry.expiresAt)])
  }

  /** Records a revalidation (304): new fetch time, expiry and validators; the body stays. */
  async touchMetadata(engine: RegistryCache, entry: StoredMetadata): Promise<void> {
    const s = this.sql
    const lastModified = entry.lastModified && entry.lastModified.length <= 64 ? entry.lastModified : null
    await s.execute(
      `update ${s.table('cached_metadata')} set fetched_at = ?, expires_at = ?, etag = ?, last_modified = ? where registry = ? and key_hash = ?`,
      [s.time(entry.fetchedAt), s.time(entry.expiresAt), entry.etag ?? null, lastModified, engine.name, entry.keyHash])
  }

  /** Removes a document's row and body; whether it existed. */
  async deleteMetadata(engine: RegistryCache, keyHash: string): Promise<boolean> {
    const s = this.sql
    const rows = await s.execute(`select id, storage_key from ${s.table('cached_metadata')} where registry = ? and key_hash = ?`, [engine.name, keyHash])
    if (!rows[0]) return false
    await s.execute(`delete from ${s.table('cached_metadata')} where id = ?`, [rows[0].id])
    await engine.cas.delete(String(rows[0].storage_key))
    return true
  }

  // -------------------------------------------------------------------------------------------
  // Administration
  // -------------------------------------------------------------------------------------------

  /** Writes pending download accounting now. */
  flush(): Promise<{ versions: number; artifacts: number }> {
    return this.accounting.flush()
  }

  /** Deletes the given `cached_artifacts` rows and their storage keys; how many went. */
  async dropArtifacts(engine: RegistryCache, rows: ReadonlyArray<Record<string, unknown>>, reason?: string): Promise<number> {
    const s = this.sql
    let n = 0
    for (const row of rows) {
      try {
        await engine.cas.delete(engine.casKey(String(row.storage_key)))
      } catch (err) {
        engine.log.warn('cannot delete a cached artifact', { key: row.storage_key, error: (err as Error).message })
        continue
      }
      await s.execute(`delete from ${s.table('cached_artifacts')} where id = ?`, [row.id])
      if (reason) this.metrics.cacheEvictions.inc({ registry: engine.name, reason })
      n++
    }
    return n
  }

  private async dropMetadataRows(engine: RegistryCache, rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
    const s = this.sql
    let n = 0
    for (const row of rows) {
      const id = `${engine.name}\0${String(row.cache_key)}`
      const memo = this.memory.peek(id)
      this.memory.delete(id)
      this.negative.delete(id)
      if (memo) this.dropRenders(memo.sha256)
      await s.execute(`delete from ${s.table('cached_metadata')} where id = ?`, [row.id])
      await engine.cas.delete(String(row.storage_key)).catch((err) => {
        engine.log.warn('cannot delete a cached metadata body', { key: row.storage_key, error: (err as Error).message })
      })
      n++
    }
    return n
  }

  /**
   * Removes every cached artifact and metadata document of a registry. Local (published)
   * packages are never touched: only what the cache itself recorded goes.
   */
  async clearRegistry(name: string): Promise<{ artifacts: number; metadata: number }> {
    const engine = this.registry(name)
    const s = this.sql
    let artifacts = 0
    for (;;) {
      const rows = await s.execute(`select id, storage_key from ${s.table('cached_artifacts')} where registry = ? order by id limit ${PAGE}`, [name])
      if (rows.length === 0) break
      const dropped = await this.dropArtifacts(engine, rows)
      artifacts += dropped
      if (dropped === 0) break // nothing could be deleted: do not loop forever
    }
    let metadata = 0
    for (;;) {
      const rows = await s.execute(`select id, storage_key, cache_key from ${s.table('cached_metadata')} where registry = ? order by id limit ${PAGE}`, [name])
      if (rows.length === 0) break
      metadata += await this.dropMetadataRows(engine, rows)
    }
    const prefix = `${name}\0`
    this.memory.deleteWhere((id) => id.startsWith(prefix))
    for (const id of [...this.negative.keys()]) if (id.startsWith(prefix)) this.negative.delete(id)
    this.bus.emit('core:cache.cleared', { registry: name, at: new Date(this.clock.now()).toISOString() })
    engine.log.info('cache cleared', { artifacts, metadata })
    return { artifacts, metadata }
  }

  /**
   * Removes the cached artifacts of a package version (or of every version) and the package's
   * metadata documents (those stored with its name, or whose key ends in `/<name>`), so that the
   * next request fetches them again.
   */
  async invalidatePackage(registry: string, name: string, version?: string): Promise<{ artifacts: number; metadata: number }> {
    const engine = this.registry(registry)
    const s = this.sql
    const names = [...new Set([name, engine.hooks().normalizeName?.(name) ?? name])]
    const nameList = names.map(() => '?').join(', ')
    const rows = await s.execute(
      `select id, storage_key from ${s.table('cached_artifacts')} where registry = ? and package_name in (${nameList})${version !== undefined ? ' and package_version = ?' : ''}`,
      [registry, ...names, ...(version !== undefined ? [version] : [])])
    const artifacts = await this.dropArtifacts(engine, rows)
    const keyMatch = names.map(() => `cache_key = ? or cache_key like ? escape '\\'`).join(' or ')
    const metaRows = await s.execute(
      `select id, storage_key, cache_key, package_name from ${s.table('cached_metadata')}
       where registry = ? and (package_name in (${nameList}) or ${keyMatch})`,
      [registry, ...names, ...names.flatMap((n) => [n, `%/${likeEscape(n)}`])])
    // SQLite's LIKE ignores ASCII case: keep only exact suffix matches.
    const exact = metaRows.filter((r) => {
      const key = String(r.cache_key)
      return names.some((n) => key === n || key.endsWith(`/${n}`) || r.package_name === n)
    })
    const metadata = await this.dropMetadataRows(engine, exact)
    engine.log.info('package invalidated', { name, version, artifacts, metadata })
    return { artifacts, metadata }
  }

  /** Known packages and versions: download accounting joined with the cached artifacts. */
  async listPackages(filter: { registry?: string; name?: string; page: number; perPage: number }): Promise<{ items: PackageListItem[]; total: number }> {
    const s = this.sql
    const where: string[] = []
    const params: unknown[] = []
    if (filter.registry) {
      where.push('registry = ?')
      params.push(filter.registry)
    }
    if (filter.name) {
      where.push('package_name = ?')
      params.push(filter.name)
    }
    const cond = where.length ? `where ${where.join(' and ')}` : ''
    const known = `select registry, package_name as name, package_version as version from ${s.table('package_statuses')} ${cond}
      union select registry, package_name as name, coalesce(package_version, '') as version from ${s.table('cached_artifacts')} ${cond}`
    const totalRows = await s.execute(`select count(*) as n from (${known}) k`, [...params, ...params])
    const total = Number(totalRows[0]?.n ?? 0)
    const rows = await s.execute(
      `select k.registry, k.name, k.version, st.download_count, st.last_accessed_at as status_access,
              a.files, a.size_bytes, a.cached_at, a.last_access as artifact_access
       from (${known}) k
       left join ${s.table('package_statuses')} st on st.registry = k.registry and st.package_name = k.name and st.package_version = k.version
       left join (select registry, package_name, coalesce(package_version, '') as version, count(*) as files, sum(size) as size_bytes,
                         max(cached_at) as cached_at, max(last_accessed_at) as last_access
                  from ${s.table('cached_artifacts')} group by registry, package_name, coalesce(package_version, '')) a
         on a.registry = k.registry and a.package_name = k.name and a.version = k.version
       order by k.registry, k.name, k.version
       limit ? offset ?`,
      [...params, ...params, filter.perPage, filter.page * filter.perPage])
    const items = rows.map((r): PackageListItem => {
      const statusAccess = isoOf(r.status_access)
      const artifactAccess = isoOf(r.artifact_access)
      const lastAccessed = statusAccess && artifactAccess ? (statusAccess > artifactAccess ? statusAccess : artifactAccess) : statusAccess ?? artifactAccess
      return {
        registry: String(r.registry),
        name: String(r.name),
        version: r.version === '' || r.version === null ? null : String(r.version),
        cached: Number(r.files ?? 0) > 0,
        size_bytes: Number(r.size_bytes ?? 0),
        download_count: Number(r.download_count ?? 0),
        last_accessed: lastAccessed,
        cached_at: isoOf(r.cached_at),
      }
    })
    return { items, total }
  }

  /** Warms one `name` or `name@version` entry of a registry. */
  warm(registry: string, spec: string, options: { versions?: number; signal?: AbortSignal } = {}): Promise<WarmResult> {
    const engine = this.registry(registry)
    if (typeof spec !== 'string' || spec.trim() === '') throw new InputError('package is required')
    return warmPackage(engine, spec.trim(), {
      versions: options.versions ?? engine.config.cache.warm_latest_n,
      concurrency: engine.config.cache.warm_concurrency,
      signal: options.signal ?? this.background.signal,
    })
  }

  /** Runs the eviction strategies of every registry once. */
  evict(): Promise<EvictionReport[]> {
    return this.eviction.runAll()
  }

  // -------------------------------------------------------------------------------------------
  // Background jobs and shutdown
  // -------------------------------------------------------------------------------------------

  private track<T>(job: Promise<T>): void {
    const p = job.catch(() => {}).finally(() => this.jobs.delete(p))
    this.jobs.add(p)
  }

  /** Start-up warming and the eviction timer; called once the server listens. */
  startBackground(): void {
    if (this.closed) return
    for (const engine of this.registries.values()) {
      const specs = engine.config.cache.warm_packages
      if (engine.config.mode === 'local' || specs.length === 0) continue
      this.track((async () => {
        for (const spec of specs) {
          if (this.background.signal.aborted) return
          try {
            const result = await this.warm(engine.name, spec)
            engine.log.info('warmed', { package: spec, ...result })
          } catch (err) {
            if (this.background.signal.aborted) return
            engine.log.warn('cannot warm a package', { package: spec, error: (err as Error).message })
          }
        }
      })())
    }
    const period = this.o.evictionIntervalMs ?? 600_000
    if (period > 0 && this.eviction.configured() && !this.evictionTimer) {
      this.evictionTimer = setInterval(() => {
        this.track(this.evict().catch((err) => this.log.warn('eviction failed', { error: (err as Error).message })))
      }, period)
      this.evictionTimer.unref()
    }
  }

  /** Removes spool files a crashed process left behind. */
  private async sweepSpool(): Promise<void> {
    const cutoff = Date.now() - SPOOL_STALE_MS
    for (const name of await readdir(this.spoolDir).catch(() => [] as string[])) {
      const file = join(this.spoolDir, name)
      try {
        if ((await stat(file)).mtimeMs < cutoff) await rm(file, { force: true })
      } catch {
        // Raced with another sweep or removed meanwhile.
      }
    }
  }

  /** Aborts warming and in-flight fetches and stops the timers; the kernel writes pending accounting after. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.background.abort(new UnavailableError('the hub is shutting down'))
    if (this.evictionTimer) clearInterval(this.evictionTimer)
    const fetches = [...this.artifactFlights.values()]
    for (const f of fetches) f.abort(new UnavailableError('the hub is shutting down'))
    await Promise.all(fetches.map((f) => f.finished))
    await Promise.all([...this.jobs])
  }
}
