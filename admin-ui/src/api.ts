/**
 * The UI's only way to the server: JSON requests to `/api/v1/…` with the signed-in token.
 * Response types mirror the kernel's API (seed package-explorer "REST API").
 */
import type { UiApi } from '@batlehub/sdk/ui'

export type Role = 'anonymous' | 'user' | 'admin'

export interface WhoAmI {
  user_id: string
  role: Role
  groups: string[]
  provider: string
  display_name: string | null
  explorable_registries: string[]
}

export interface RegistrySummary {
  name: string
  type: string
  mode: 'proxy' | 'local' | 'hybrid'
  url: string
  capabilities: { proxy: boolean; publish: boolean; search: boolean; yank: boolean }
}

export type Sort = 'downloads' | 'name' | 'recent'

export interface ExplorePackage {
  registry: string
  name: string
  version_count: number
  total_downloads: number
  last_accessed: string | null
  source: 'proxied' | 'local' | 'both'
  has_blocked: boolean
}

export interface ExplorePage {
  items: ExplorePackage[]
  total: number
  page: number
  per_page: number
  upstream_unavailable: boolean
}

export interface RegistryStats {
  registry: string
  package_count: number
  total_downloads: number
}

export interface UpstreamHit {
  registry: string
  name: string
  latest_version: string | null
  description: string | null
  already_cached: boolean
}

export interface Firewall {
  status: 'clear' | 'blocked' | 'yanked'
  reason?: string | null
  blocked_by?: string | null
  blocked_at?: string | null
}

export interface ExploreVersion {
  version: string
  source: 'proxied' | 'local'
  firewall: Firewall
  download_count: number
  last_accessed: string | null
  published_at: string | null
  is_prerelease: boolean
}

export interface PackageDetail {
  registry: string
  name: string
  gate: { registry_accessible: boolean; beta_member: boolean; beta_channel_enabled?: boolean }
  versions: ExploreVersion[]
  upstream_unavailable: boolean
}

export interface SetupSnippet {
  title: string
  language: string
  content: string
  purpose: 'install' | 'publish'
}

export interface SetupRegistry {
  name: string
  type: string
  mode: 'proxy' | 'local' | 'hybrid'
  url: string
  accessible: boolean
  snippets: SetupSnippet[]
}

export interface SetupGuide {
  server_url: string
  registries: SetupRegistry[]
}

export interface Banner {
  message: string
  level: 'info' | 'warning' | 'error'
  set_by: string
  set_at: string
}

export interface TrafficRow {
  hits: number
  misses: number
  metadata_hits: number
  metadata_misses: number
  hit_rate: number | null
  bytes_saved: number
  bytes_fetched: number
}

export interface Dashboard {
  since: string
  totals: TrafficRow & { cached_artifacts: number; cached_bytes: number; packages: number }
  registries: Array<TrafficRow & {
    registry: string
    type: string
    mode: string
    cached_artifacts: number
    cached_bytes: number
    packages: number
    local_packages: number
  }>
}

export interface PluginModule {
  id: string
  kind: 'registry' | 'auth'
  module: string
}

/** An API failure: HTTP status (0 when the server could not be reached) and the kernel's error code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

export const TOKEN_KEY = 'batlehub.token'

export interface ApiClientOptions {
  /** Origin of the hub; default the page's. */
  base?: string
  /** The token to send; read on every request. */
  token?: () => string | null
  /** Called when a request that carried a token is refused with 401 (expired or revoked token). */
  onUnauthorized?: () => void
}

export class ApiClient implements UiApi {
  constructor(private readonly o: ApiClientOptions = {}) {}

  get<T = unknown>(path: string, init: { signal?: AbortSignal; token?: string } = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, init)
  }

  send<T = unknown>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.request<T>(method, path, body ?? (method === 'DELETE' ? undefined : {}))
  }

  async request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal; token?: string } = {}): Promise<T> {
    if (!path.startsWith('/api/v1/')) throw new ApiError(0, 'BH_CLIENT', `not an API path: ${path}`)
    const token = init.token ?? this.o.token?.() ?? null
    const headers: Record<string, string> = { accept: 'application/json' }
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`${this.o.base ?? ''}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: init.signal,
        credentials: 'omit',
        cache: 'no-store',
      })
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err
      throw new ApiError(0, 'BH_NETWORK', 'The server could not be reached. Check your connection and try again.')
    }
    const text = await res.text()
    let data: any = undefined
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = undefined
      }
    }
    if (!res.ok) {
      if (res.status === 401 && token && init.token === undefined) this.o.onUnauthorized?.()
      const message = typeof data?.error === 'string' ? data.error : `${res.status} ${res.statusText || 'error'}`
      throw new ApiError(res.status, typeof data?.code === 'string' ? data.code : `HTTP_${res.status}`, message)
    }
    return data as T
  }
}

/** Query string from defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  const s = u.toString()
  return s ? `?${s}` : ''
}

/** `/api/v1/explore/packages/{registry}/{name}` with each part percent-encoded (names may hold `/` and `@`). */
export function packagePath(registry: string, name: string): string {
  return `/api/v1/explore/packages/${encodeURIComponent(registry)}/${encodeURIComponent(name)}`
}
