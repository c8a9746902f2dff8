/**
 * Every call to the upstream registry: sparse index files and `config.json` through the kernel's
 * metadata cache, `.crate` download URLs, and the crates.io-style web API (publish times, search).
 */
import { createHash } from 'node:crypto'
import type { MetadataEntry, RegistryContext } from '@batlehub/sdk'
import type { CargoConfig } from './config.ts'
import { expandDownloadUrl, parseIndexFile, type ParsedIndexLine } from './metadata.ts'
import { indexPath, normalizeCrateName } from './names.ts'

/** Where crates.io serves `.crate` files (its index's `config.json` says the same). */
export const DEFAULT_DOWNLOAD_URL = 'https://static.crates.io/crates'

/** The parts of an upstream `config.json` this plugin uses. */
export interface UpstreamIndexConfig {
  dl?: string
  api?: string
}

/** An upstream index file, parsed, with the upstream that served it. */
export interface UpstreamIndex {
  readonly entry: MetadataEntry
  readonly lines: ParsedIndexLine[]
}

/** A search hit in crates.io's JSON shape. */
export interface SearchCrate {
  name: string
  max_version?: string
  max_stable_version?: string | null
  newest_version?: string
  description?: string | null
  updated_at?: string
}

const absolute = (u: unknown): u is string => typeof u === 'string' && /^https?:\/\/[^\s]+$/.test(u)

/** Upstream access for one registry instance. */
export class CargoUpstream {
  private readonly ctx: RegistryContext<CargoConfig>

  constructor(ctx: RegistryContext<CargoConfig>) {
    this.ctx = ctx
  }

  /**
   * The crate's upstream index file, from the metadata cache (revalidated with ETag/Last-Modified);
   * null when every upstream says it does not exist. Lines for other crates are dropped: an index
   * file describes exactly one crate.
   */
  async index(name: string, signal?: AbortSignal): Promise<UpstreamIndex | null> {
    const lower = normalizeCrateName(name)
    const entry = await this.ctx.cache.metadata({
      key: `index/${lower}`,
      name: lower,
      upstream: { path: `/${indexPath(lower)}`, signal },
      contentType: 'text/plain; charset=utf-8',
      transform: (body) => {
        const kept = parseIndexFile(body.toString('utf8')).filter((l) => normalizeCrateName(l.line.name) === lower)
        return kept.length ? kept.map((l) => `${l.raw}\n`).join('') : null
      },
      signal,
    })
    if (!entry) return null
    return { entry, lines: parseIndexFile(entry.body.toString('utf8')) }
  }

  /** An upstream's `config.json` (`dl`, `api`), or an empty object when it has none. */
  async indexConfig(upstream: string, signal?: AbortSignal): Promise<UpstreamIndexConfig> {
    const base = upstream.replace(/\/+$/, '')
    const id = createHash('sha256').update(base).digest('hex').slice(0, 24)
    try {
      const entry = await this.ctx.cache.metadata({
        key: `index-config/${id}`,
        upstream: { url: `${base}/config.json`, signal },
        contentType: 'application/json',
        transform: (body) => {
          const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>
          const out: UpstreamIndexConfig = {}
          if (absolute(json.dl)) out.dl = json.dl
          if (absolute(json.api)) out.api = json.api.replace(/\/+$/, '')
          return JSON.stringify(out)
        },
        signal,
      })
      return entry ? (JSON.parse(entry.body.toString('utf8')) as UpstreamIndexConfig) : {}
    } catch (err) {
      this.ctx.log.warn('upstream config.json unavailable', { upstream: base, err: (err as Error).message })
      return {}
    }
  }

  /**
   * The URL of a `.crate` on the upstream that served its index line: the `download_url` setting,
   * else that upstream's `config.json` `dl`, else crates.io's download host.
   */
  async downloadUrl(upstream: string, name: string, version: string, cksum: string, signal?: AbortSignal): Promise<string> {
    const dl = this.ctx.config.download_url ?? (await this.indexConfig(upstream, signal)).dl ?? DEFAULT_DOWNLOAD_URL
    return expandDownloadUrl(dl, name, version, cksum)
  }

  /** Base URL of the upstream web API: `api_url`, else the first upstream's `config.json` `api`. */
  async apiBase(signal?: AbortSignal): Promise<string | undefined> {
    if (this.ctx.config.api_url) return this.ctx.config.api_url.replace(/\/+$/, '')
    const first = this.ctx.http.upstreams[0]
    return first ? (await this.indexConfig(first, signal)).api : undefined
  }

  /**
   * Publish times by version from the web API (`/api/v1/crates/{name}`, `versions[].created_at`),
   * for index lines without `pubtime`. Empty when the API is unknown or unreachable.
   */
  async publishTimes(name: string, signal?: AbortSignal): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    try {
      const api = await this.apiBase(signal)
      if (!api) return out
      const lower = normalizeCrateName(name)
      const entry = await this.ctx.cache.metadata({
        key: `api-versions/${lower}`,
        name: lower,
        upstream: { url: `${api}/api/v1/crates/${encodeURIComponent(lower)}`, headers: { accept: 'application/json' }, signal },
        contentType: 'application/json',
        // Keep only what is used: the crate JSON of a popular crate is large.
        transform: (body) => {
          const json = JSON.parse(body.toString('utf8')) as { versions?: Array<{ num?: unknown; created_at?: unknown }> }
          const times: Record<string, string> = {}
          for (const v of json.versions ?? []) if (typeof v.num === 'string' && typeof v.created_at === 'string') times[v.num] = v.created_at
          return JSON.stringify(times)
        },
        signal,
      })
      if (entry) for (const [k, v] of Object.entries(JSON.parse(entry.body.toString('utf8')) as Record<string, string>)) out.set(k, v)
    } catch (err) {
      this.ctx.log.debug('upstream publish times unavailable', { name, err: (err as Error).message })
    }
    return out
  }

  /** The search base: `search_url` ("" disables), else the web API. */
  private async searchBase(signal?: AbortSignal): Promise<string | undefined> {
    const configured = this.ctx.registry.searchUrl
    if (configured === '') return undefined
    if (configured) return configured.replace(/\/+$/, '')
    return this.apiBase(signal)
  }

  /** Upstream search in crates.io's shape; an unreachable upstream yields no hits. */
  async search(query: string, perPage: number, signal?: AbortSignal): Promise<{ crates: SearchCrate[]; total: number }> {
    try {
      const base = await this.searchBase(signal)
      if (!base) return { crates: [], total: 0 }
      const url = `${base}/api/v1/crates?q=${encodeURIComponent(query)}&per_page=${perPage}`
      const res = await this.ctx.http.request({ url, headers: { accept: 'application/json' }, signal, timeoutMs: 10_000 })
      if (res.status !== 200) {
        res.dispose()
        return { crates: [], total: 0 }
      }
      const json = await res.json<{ crates?: unknown[]; meta?: { total?: unknown } }>(8 * 1024 * 1024)
      const crates: SearchCrate[] = []
      for (const c of json.crates ?? []) {
        const o = c as Record<string, unknown>
        if (typeof o?.name !== 'string') continue
        crates.push({
          name: o.name,
          ...(typeof o.max_version === 'string' ? { max_version: o.max_version } : {}),
          ...(typeof o.max_stable_version === 'string' ? { max_stable_version: o.max_stable_version } : {}),
          ...(typeof o.newest_version === 'string' ? { newest_version: o.newest_version } : {}),
          description: typeof o.description === 'string' ? o.description : null,
          ...(typeof o.updated_at === 'string' ? { updated_at: o.updated_at } : {}),
        })
      }
      return { crates, total: typeof json.meta?.total === 'number' ? json.meta.total : crates.length }
    } catch (err) {
      this.ctx.log.warn('upstream search failed', { err: (err as Error).message })
      return { crates: [], total: 0 }
    }
  }
}
