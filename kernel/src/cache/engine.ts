/**
 * The proxy/cache engine of one registry instance: what a plugin sees as `ctx.cache`
 * ({@link ProxyCacheService}). Process-wide state (memory caches, single-flight maps, accounting,
 * metrics) lives in the {@link CacheManager}; this class holds what is per registry.
 */
import { createHash } from 'node:crypto'
import {
  BASE_URL_PLACEHOLDER, InputError, NotAllowedError, NotFoundError, UpstreamError,
  type ArtifactCheck, type ArtifactRequest, type BlockedVersionInfo, type LoggerService, type MetadataEntry, type MetadataRequest, type ProxyCacheService,
  type RegistryHooks, type RegistryReply, type RegistryRequest,
} from '@batlehub/sdk'
import type { RegistryConfig } from '../config/schema.ts'
import type { Cas } from '../storage/cas.ts'
import { noneMatch } from '../storage/conditional.ts'
import { validateKey } from '../storage/keys.ts'
import type { UpstreamHttp } from '../upstream/http.ts'
import { parseCacheControl, type CacheDirectives } from './cache-control.ts'
import { ArtifactFetch, asUpstreamError, type FetchHead } from './fetch.ts'
import type { CacheManager } from './manager.ts'
import { msOf } from '../db/sql.ts'

/** A stored metadata document, as kept in memory and in the `cached_metadata` table. */
export interface StoredMetadata {
  key: string
  keyHash: string
  body: Buffer
  sha256: string
  contentType: string
  fetchedAt: number
  expiresAt: number
  upstream: string
  etag?: string
  lastModified?: string
  name?: string
  /**
   * Set when the upstream just failed and this copy was served stale: until then (clock ms) the
   * copy is served stale without asking the upstream again, so that an upstream that hangs until
   * the timeout does not make every request wait for it.
   */
  retryAt?: number
}

/** Largest upstream metadata document accepted by default. */
const DEFAULT_METADATA_MAX = 64 * 1024 * 1024
/** Longest a 404/410 is remembered, whatever the TTL (seconds). */
const NEGATIVE_TTL_MAX = 60
/** After an upstream failure, how long a stale copy is served without asking again (ms). */
const STALE_RETRY_MS = 10_000

export interface RegistryCacheOptions {
  config: RegistryConfig
  /** `server.max_body_bytes`: the artifact limit when the registry sets no `max_artifact_bytes`. */
  defaultMaxBytes: number
  http: UpstreamHttp
  cas: Cas
  log: LoggerService
  /** The plugin's hooks (set once its setup returned). */
  hooks: () => RegistryHooks
  /**
   * The registry's download gate (blocklist, release-age gate; kernel/src/policy). Applied to every
   * artifact request that names a version, so plugins get it for free.
   */
  policy?: { enforce(check: ArtifactCheck): void; blocked(name: string, version: string): BlockedVersionInfo | null }
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' ? code : undefined
}

/** Whether an error means "the upstream could not answer" (the serve-stale trigger). */
function isUpstreamFailure(err: unknown): boolean {
  const code = codeOf(err)
  return code === 'BH_UPSTREAM' || code === 'BH_UPSTREAM_TIMEOUT'
}

/** Waits for a shared promise, or rejects early when this caller's signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason ?? new DOMException('aborted', 'AbortError'))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException('aborted', 'AbortError'))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** Replaces every occurrence of each token, in order; returns `body` itself when none occurs. */
export function renderPlaceholders(body: Buffer, pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  let out = body
  for (const [token, value] of pairs) {
    if (!token) continue
    const from = Buffer.from(token)
    let i = out.indexOf(from)
    if (i < 0) continue
    const to = Buffer.from(value)
    const parts: Buffer[] = []
    let pos = 0
    while (i >= 0) {
      parts.push(out.subarray(pos, i), to)
      pos = i + from.length
      i = out.indexOf(from, pos)
    }
    parts.push(out.subarray(pos))
    out = Buffer.concat(parts)
  }
  return out
}

export class RegistryCache implements ProxyCacheService {
  readonly name: string
  readonly config: RegistryConfig
  readonly cas: Cas
  readonly http: UpstreamHttp
  readonly log: LoggerService
  readonly hooks: () => RegistryHooks
  private readonly prefix: string
  private readonly maxArtifactBytes: number
  private readonly policy: RegistryCacheOptions['policy']

  constructor(private readonly m: CacheManager, o: RegistryCacheOptions) {
    this.name = o.config.name
    this.config = o.config
    this.cas = o.cas
    this.http = o.http
    this.log = o.log
    this.hooks = o.hooks
    this.policy = o.policy
    this.prefix = `registries/${this.name}/`
    this.maxArtifactBytes = o.config.max_artifact_bytes ?? o.defaultMaxBytes
  }

  // -------------------------------------------------------------------------------------------
  // Metadata
  // -------------------------------------------------------------------------------------------

  /** Storage key of a metadata body: kernel-owned, outside every plugin's key space. */
  metadataStorageKey(keyHash: string): string {
    return `cache-meta/${this.name}/${keyHash}`
  }

  private memoryId(key: string): string {
    return `${this.name}\0${key}`
  }

  async metadata(req: MetadataRequest): Promise<MetadataEntry | null> {
    if (typeof req?.key !== 'string' || req.key === '') throw new InputError('metadata request needs a cache key')
    if (!req.upstream) throw new InputError('metadata request needs an upstream request')
    const id = this.memoryId(req.key)
    const now = this.m.clock.now()
    const memo = this.m.memory.get(id)
    if (memo && this.fresh(memo, req, now)) {
      this.m.metrics.cacheHits.inc({ registry: this.name, kind: 'metadata' })
      return this.view(memo, 'fresh')
    }
    if (memo?.retryAt !== undefined && now < memo.retryAt && this.config.cache.serve_stale) {
      this.m.metrics.cacheStale.inc({ registry: this.name })
      return this.view(memo, 'stale')
    }
    const negative = this.m.negative.get(id)
    if (negative !== undefined) {
      if (now < negative) {
        this.m.metrics.cacheHits.inc({ registry: this.name, kind: 'metadata' })
        return null
      }
      this.m.negative.delete(id)
    }
    let shared = this.m.metadataFlights.get(id)
    if (!shared) {
      const flight = this.resolveMetadata(req, id).finally(() => {
        if (this.m.metadataFlights.get(id) === flight) this.m.metadataFlights.delete(id)
      })
      shared = flight
      this.m.metadataFlights.set(id, flight)
    }
    return abortable(shared, req.signal)
  }

  /** The single-flight body of {@link metadata}: stored copy, freshness, upstream, store. */
  private async resolveMetadata(req: MetadataRequest, id: string): Promise<MetadataEntry | null> {
    const keyHash = sha256(req.key)
    // The memory copy expired (or is absent): the database may hold a fresher one (another
    // replica revalidated it), or none (it was invalidated).
    let stored = await this.loadStored(req.key, keyHash, this.m.memory.peek(id))
    const now = this.m.clock.now()
    if (stored && this.fresh(stored, req, now)) {
      this.m.memory.set(id, stored)
      this.m.metrics.cacheHits.inc({ registry: this.name, kind: 'metadata' })
      return this.view(stored, 'fresh')
    }
    const ttl = req.ttlSecs ?? this.config.cache.metadata_ttl_secs
    const headers: Record<string, string> = { ...(req.upstream.headers ?? {}) }
    if (stored?.etag) headers['if-none-match'] = stored.etag
    if (stored?.lastModified) headers['if-modified-since'] = stored.lastModified
    this.m.metrics.upstreamFetches.inc({ registry: this.name, kind: 'metadata' })

    let res
    try {
      // Shared by every waiting caller: no caller's signal may cancel it.
      res = await this.http.request({ ...req.upstream, headers, signal: undefined })
    } catch (err) {
      return this.upstreamFailed(err, stored, req.key)
    }

    if (res.status === 304 && stored) {
      res.dispose()
      const directives = parseCacheControl(res.headers['cache-control'])
      stored = {
        ...stored,
        fetchedAt: now,
        expiresAt: this.expiry(now, ttl, directives),
        ...(res.headers.etag ? { etag: res.headers.etag } : {}),
        ...(res.headers['last-modified'] ? { lastModified: res.headers['last-modified'] } : {}),
      }
      await this.m.touchMetadata(this, stored).catch((err) => {
        this.log.warn('cannot record a metadata revalidation', { key: req.key, error: (err as Error).message })
      })
      this.m.memory.set(id, stored)
      this.m.metrics.cacheHits.inc({ registry: this.name, kind: 'metadata' })
      return this.view(stored, 'revalidated')
    }
    if (res.status === 404 || res.status === 410) {
      res.dispose()
      await this.forget(req.key, keyHash)
      const negativeSecs = Math.min(ttl, NEGATIVE_TTL_MAX)
      if (negativeSecs > 0) this.m.rememberMissing(id, now + negativeSecs * 1000)
      this.m.metrics.cacheMisses.inc({ registry: this.name, kind: 'metadata' })
      return null
    }
    if (res.status < 200 || res.status >= 300 || res.status === 204 || res.status === 206) {
      res.dispose()
      return this.upstreamFailed(new UpstreamError(`upstream ${res.url} answered ${res.status} for ${req.key}`), stored, req.key)
    }
    let body: Buffer
    try {
      body = await res.buffer(req.maxBytes ?? DEFAULT_METADATA_MAX)
    } catch (err) {
      const wrapped = codeOf(err) === 'BH_TOO_LARGE'
        ? new UpstreamError(`upstream document ${req.key} is too large`, { cause: err })
        : asUpstreamError(err, `metadata ${req.key}`)
      return this.upstreamFailed(wrapped, stored, req.key)
    }
    let out: Buffer | string | null = body
    if (req.transform) {
      try {
        out = await req.transform(body, { status: res.status, headers: res.headers, upstream: res.upstream })
      } catch (err) {
        // A plugin that finds the upstream document unusable says so with an UpstreamError.
        if (isUpstreamFailure(err)) return this.upstreamFailed(err, stored, req.key)
        throw err
      }
    }
    if (out === null) {
      await this.forget(req.key, keyHash)
      const negativeSecs = Math.min(ttl, NEGATIVE_TTL_MAX)
      if (negativeSecs > 0) this.m.rememberMissing(id, now + negativeSecs * 1000)
      this.m.metrics.cacheMisses.inc({ registry: this.name, kind: 'metadata' })
      return null
    }
    const bytes = typeof out === 'string' ? Buffer.from(out) : Buffer.isBuffer(out) ? out : Buffer.from(out as Uint8Array)
    const directives = parseCacheControl(res.headers['cache-control'])
    const entry: StoredMetadata = {
      key: req.key,
      keyHash,
      body: bytes,
      sha256: sha256(bytes),
      contentType: req.contentType ?? res.headers['content-type'] ?? 'application/octet-stream',
      fetchedAt: now,
      expiresAt: this.expiry(now, ttl, directives),
      upstream: res.upstream,
      ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      ...(res.headers['last-modified'] ? { lastModified: res.headers['last-modified'] } : {}),
      ...(req.name ? { name: req.name } : {}),
    }
    this.m.metrics.cacheMisses.inc({ registry: this.name, kind: 'metadata' })
    this.m.negative.delete(id)
    if (directives.noStore) {
      // RFC 9111 §5.2.2.5: answered, never stored; an older copy must not outlive it either.
      await this.forget(req.key, keyHash)
      return this.view(entry, 'fetched')
    }
    try {
      await this.m.storeMetadata(this, entry)
    } catch (err) {
      this.log.error('cannot store a metadata document', { key: req.key, error: (err as Error).message })
    }
    this.m.memory.set(id, entry)
    return this.view(entry, 'fetched')
  }

  /**
   * Within the expiry set when it was fetched (which honours the upstream's Cache-Control), and
   * within the TTL in force now: a TTL lowered since then applies at once.
   */
  private fresh(entry: StoredMetadata, req: MetadataRequest, now: number): boolean {
    const ttl = req.ttlSecs ?? this.config.cache.metadata_ttl_secs
    return now < entry.expiresAt && now < entry.fetchedAt + ttl * 1000
  }

  private expiry(now: number, ttlSecs: number, directives: CacheDirectives): number {
    if (directives.noCache) return now
    const secs = directives.maxAge !== undefined ? Math.min(directives.maxAge, ttlSecs) : ttlSecs
    return now + secs * 1000
  }

  private upstreamFailed(err: unknown, stored: StoredMetadata | null, key: string): MetadataEntry {
    const wrapped = asUpstreamError(err, `metadata ${key}`)
    if ((wrapped as Error)?.name === 'AbortError') throw wrapped
    this.m.metrics.upstreamFailures.inc({ registry: this.name, kind: 'metadata' })
    if (stored && this.config.cache.serve_stale) {
      this.log.warn('upstream failed; serving stale metadata', { key, error: (wrapped as Error).message, fetchedAt: new Date(stored.fetchedAt).toISOString() })
      this.m.metrics.cacheStale.inc({ registry: this.name })
      this.m.memory.set(this.memoryId(key), { ...stored, retryAt: this.m.clock.now() + STALE_RETRY_MS })
      return this.view(stored, 'stale')
    }
    throw wrapped
  }

  /** The stored copy of a document: from the database row, reusing `memo`'s body when unchanged. */
  private async loadStored(key: string, keyHash: string, memo: StoredMetadata | undefined): Promise<StoredMetadata | null> {
    const row = await this.m.metadataRow(this.name, keyHash)
    if (!row) {
      if (memo) this.m.memory.delete(this.memoryId(key))
      return null
    }
    const sha = String(row.sha256)
    let body = memo && memo.sha256 === sha ? memo.body : undefined
    if (!body) {
      const found = await this.cas.get(String(row.storage_key))
      if (!found) {
        // The row outlived its body (a crash between the two): forget both.
        await this.forget(key, keyHash)
        return null
      }
      const chunks: Buffer[] = []
      for await (const chunk of found.body) chunks.push(chunk as Buffer)
      body = Buffer.concat(chunks)
    }
    return {
      key,
      keyHash,
      body,
      sha256: sha,
      contentType: String(row.content_type),
      fetchedAt: msOf(row.fetched_at) ?? 0,
      expiresAt: msOf(row.expires_at) ?? 0,
      upstream: String(row.upstream),
      ...(row.etag ? { etag: String(row.etag) } : {}),
      ...(row.last_modified ? { lastModified: String(row.last_modified) } : {}),
      ...(row.package_name ? { name: String(row.package_name) } : {}),
    }
  }

  /** Removes a document from memory, the database and storage. */
  private async forget(key: string, keyHash = sha256(key)): Promise<boolean> {
    const memo = this.m.memory.peek(this.memoryId(key))
    this.m.memory.delete(this.memoryId(key))
    if (memo) this.m.dropRenders(memo.sha256)
    return this.m.deleteMetadata(this, keyHash)
  }

  private view(entry: StoredMetadata, state: MetadataEntry['state']): MetadataEntry {
    this.m.bodyHashes.set(entry.body, entry.sha256)
    return Object.freeze({ key: entry.key, body: entry.body, contentType: entry.contentType, fetchedAt: entry.fetchedAt, state, upstream: entry.upstream })
  }

  serveMetadata(
    entry: MetadataEntry,
    req: RegistryRequest,
    options: { contentType?: string; status?: number; headers?: Record<string, string>; replacements?: Record<string, string> } = {},
  ): RegistryReply {
    const pairs: Array<[string, string]> = Object.entries({ [BASE_URL_PLACEHOLDER]: req.baseUrl, ...(options.replacements ?? {}) })
    const rendered = this.m.render(entry.body, pairs)
    const state = entry.state
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value
    headers['content-type'] = options.contentType ?? headers['content-type'] ?? entry.contentType
    headers.etag = rendered.etag
    headers['x-cache'] = state === 'fresh' ? 'HIT' : state === 'fetched' ? 'MISS' : state === 'revalidated' ? 'REVALIDATED' : 'STALE'
    // RFC 7234 §5.5.1 (still what clients and caches recognise): the copy could not be revalidated.
    if (state === 'stale') headers.warning = '110 - "Response is Stale"'
    const status = options.status ?? 200
    const inm = req.header('if-none-match')
    if (status === 200 && inm !== undefined && noneMatch(inm, rendered.etag)) {
      delete headers['content-type']
      return { status: 304, headers, body: null }
    }
    // npm re-requests a packument sent without Content-Length.
    headers['content-length'] = String(rendered.body.length)
    return { status, headers, body: req.method === 'HEAD' ? null : rendered.body }
  }

  async invalidateMetadata(key: string): Promise<void> {
    if (typeof key !== 'string' || key === '') throw new InputError('invalidateMetadata needs a cache key')
    this.m.negative.delete(this.memoryId(key))
    await this.forget(key)
  }

  // -------------------------------------------------------------------------------------------
  // Artifacts
  // -------------------------------------------------------------------------------------------

  /** The CAS key of a registry-relative artifact key (the same keys `ctx.storage` uses). */
  casKey(key: string): string {
    if (typeof key !== 'string') throw new InputError('artifact request needs a storage key')
    return validateKey(this.prefix + validateKey(key))
  }

  async artifact(req: ArtifactRequest, client: RegistryRequest): Promise<RegistryReply> {
    this.checkArtifactRequest(req)
    // Policy before anything is read or fetched: a refused version is neither served nor cached.
    if (req.version !== undefined && this.policy) {
      this.policy.enforce({ identity: client.identity, name: req.name, version: req.version, publishedAt: req.publishedAt, ip: client.ip })
    }
    const casKey = this.casKey(req.key)
    const extra = { ...(req.headers ?? {}) }
    for (let attempt = 0; attempt < 3; attempt++) {
      const hit = await this.cas.serve({ key: casKey, request: client, ...(req.contentType ? { contentType: req.contentType } : {}), headers: { ...extra, 'x-cache': 'HIT' } })
      if (hit) {
        this.m.metrics.cacheHits.inc({ registry: this.name, kind: 'artifact' })
        const bytes = hit.body ? Number((hit.headers?.['content-length'] as string | undefined) ?? 0) : 0
        if (bytes) this.m.metrics.cacheBytesServed.inc({ registry: this.name, source: 'cache' }, bytes)
        this.served(req, client, hit.status ?? 200, bytes, true)
        return hit
      }
      if (client.method === 'HEAD') return this.headMiss(req, client)
      const fetch = this.m.artifactFetch(this, casKey, req)
      const attachment = fetch.attach(client.signal)
      let head: FetchHead
      try {
        head = await abortable(fetch.head, client.signal)
      } catch (err) {
        attachment.release()
        throw err
      }
      if (head.cached) {
        // Committed meanwhile (or by another replica): serve it from storage.
        attachment.release()
        continue
      }
      this.m.metrics.cacheMisses.inc({ registry: this.name, kind: 'artifact' })
      try {
        // No header goes out before a byte may: a fetch failing earlier (a small artifact with a
        // wrong digest, an upstream dying at once) is still an error response, not a cut one.
        await abortable(fetch.ready, client.signal)
      } catch (err) {
        attachment.release()
        // The client did not send the bad bytes: a corrupt upstream body is a bad gateway.
        if ((err as { code?: unknown })?.code === 'BH_INTEGRITY') {
          throw new UpstreamError(`${req.key}: the upstream body does not match its declared digest`, { cause: err })
        }
        throw err
      }
      const headers: Record<string, string> = {
        ...extra,
        'content-type': req.contentType ?? extra['content-type'] ?? head.contentType ?? 'application/octet-stream',
        'x-cache': 'MISS',
      }
      // Forwarded so clients see progress and detect truncation; the body is never decoded.
      if (head.length !== undefined) headers['content-length'] = String(head.length)
      this.served(req, client, 200, head.length ?? 0, false)
      return { status: 200, headers, body: attachment.reader() }
    }
    throw new NotFoundError(`${req.key}: not found`)
  }

  /** A HEAD on a miss asks the upstream for the head only; nothing is fetched or stored. */
  private async headMiss(req: ArtifactRequest, client: RegistryRequest): Promise<RegistryReply> {
    let res
    try {
      res = await this.http.request({ ...req.upstream, method: 'HEAD', raw: true, signal: client.signal })
    } catch (err) {
      throw asUpstreamError(err, `artifact ${req.key}`)
    }
    res.dispose()
    if (res.status === 404 || res.status === 410) throw new NotFoundError(`${req.key} not found upstream`)
    if (res.status !== 200) throw new UpstreamError(`upstream ${res.url} answered ${res.status} to HEAD ${req.key}`)
    this.m.metrics.cacheMisses.inc({ registry: this.name, kind: 'artifact' })
    const headers: Record<string, string> = {
      ...(req.headers ?? {}),
      'content-type': req.contentType ?? res.headers['content-type'] ?? 'application/octet-stream',
      'x-cache': 'MISS',
    }
    const length = res.headers['content-length']
    if (length && /^\d+$/.test(length)) headers['content-length'] = length
    this.served(req, client, 200, 0, false)
    return { status: 200, headers, body: null }
  }

  private checkArtifactRequest(req: ArtifactRequest): void {
    if (!req || typeof req.key !== 'string') throw new InputError('artifact request needs a storage key')
    if (typeof req.name !== 'string' || req.name === '') throw new InputError('artifact request needs a package name')
    if (!req.upstream) throw new InputError('artifact request needs an upstream request')
  }

  /** Accounting and the served event; a counter bump, never a database write. */
  private served(req: ArtifactRequest, client: RegistryRequest, status: number, bytes: number, cacheHit: boolean): void {
    const at = this.m.clock.now()
    // A full GET is a download; HEAD, 304 revalidations and range requests only count as access.
    const count = client.method === 'GET' && (status === 200 || status === 304) ? 1 : 0
    this.m.accounting.record({
      registry: this.name, key: req.key, name: req.name,
      ...(req.version ? { version: req.version } : {}),
      ...(req.publishedAt ? { publishedAt: req.publishedAt } : {}),
      count, at,
    })
    if (this.m.bus.listenerCount('core:artifact.served') > 0) {
      this.m.bus.emit('core:artifact.served', {
        registry: this.name, name: req.name, ...(req.version ? { version: req.version } : {}), key: req.key, bytes, cacheHit, at: new Date(at).toISOString(),
      })
    }
  }

  async hasArtifact(key: string): Promise<boolean> {
    return (await this.cas.head(this.casKey(key))) !== null
  }

  async prefetch(req: ArtifactRequest): Promise<'fetched' | 'cached'> {
    this.checkArtifactRequest(req)
    // Warming never fetches a blocked version (no client: the age gate is left to downloads).
    const block = req.version !== undefined ? this.policy?.blocked(req.name, req.version) : null
    if (block) throw new NotAllowedError(`version ${req.version} of ${req.name} is blocked on this registry${block.reason ? `: ${block.reason}` : ''}`)
    const casKey = this.casKey(req.key)
    if (await this.cas.head(casKey)) return 'cached'
    const fetch: ArtifactFetch = this.m.artifactFetch(this, casKey, req)
    const attachment = fetch.attach()
    try {
      return await fetch.done
    } finally {
      attachment.release()
    }
  }

  /** The artifact size limit of a request. */
  maxBytesOf(req: ArtifactRequest): number {
    return req.maxBytes ?? this.maxArtifactBytes
  }
}
