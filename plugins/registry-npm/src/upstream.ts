/**
 * Calls to the upstream registry that do not go through the cache: search.
 */
import type { RegistryContext, UpstreamRequest, UpstreamSearchHit } from '@batlehub/sdk'
import type { NpmConfig } from './config.ts'

type Json = Record<string, any>

/** One object of the `/-/v1/search` answer, as npm prints it. */
export interface SearchObject {
  package: Json & { name: string }
  score: { final: number; detail: { quality: number; popularity: number; maintenance: number } }
  searchScore: number
}

/**
 * The upstream search request: `search_url` when the operator set one (a registry base URL, or the
 * full `/-/v1/search` URL), else `/-/v1/search` on the upstreams in order. Null when disabled
 * (`search_url = ""`).
 */
export function searchRequest(ctx: RegistryContext<NpmConfig>, text: string, size: number, from: number, signal?: AbortSignal): UpstreamRequest | null {
  const query = new URLSearchParams({ text, size: String(size), from: String(from) }).toString()
  const configured = ctx.registry.searchUrl
  if (configured === '') return null
  if (configured !== undefined) {
    const base = configured.replace(/\/+$/, '')
    const url = base.endsWith('/-/v1/search') ? base : `${base}/-/v1/search`
    return { url: `${url}?${query}`, headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) }
  }
  if (ctx.registry.upstreams.length === 0) return null
  return { path: `/-/v1/search?${query}`, headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) }
}

/** Searches the upstream; an unreachable or odd upstream gives no hits rather than an error. */
export async function searchUpstream(ctx: RegistryContext<NpmConfig>, text: string, size: number, from: number, signal?: AbortSignal): Promise<{ total: number; objects: SearchObject[] }> {
  const req = searchRequest(ctx, text, size, from, signal)
  if (!req) return { total: 0, objects: [] }
  try {
    const res = await ctx.http.request(req)
    if (res.status !== 200) {
      res.dispose()
      return { total: 0, objects: [] }
    }
    const body = await res.json<Json>(8 * 1024 * 1024)
    const objects = Array.isArray(body?.objects)
      ? (body.objects as Json[]).filter((o) => o && typeof o === 'object' && o.package && typeof o.package.name === 'string') as SearchObject[]
      : []
    return { total: typeof body?.total === 'number' ? body.total : objects.length, objects }
  } catch (err) {
    ctx.log.warn('upstream search failed', { err: (err as Error).message })
    return { total: 0, objects: [] }
  }
}

export function toHit(o: SearchObject): UpstreamSearchHit {
  return {
    name: o.package.name,
    ...(typeof o.package.version === 'string' ? { latestVersion: o.package.version } : {}),
    ...(typeof o.package.description === 'string' ? { description: o.package.description } : {}),
  }
}
