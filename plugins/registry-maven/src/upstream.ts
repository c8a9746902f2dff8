/**
 * Every call to the upstream repository: metadata and checksum documents through the kernel's
 * metadata cache, artifacts through its artifact cache, non-unique SNAPSHOT files streamed
 * through uncached, and Solr search.
 */
import {
  NotFoundError, type MetadataEntry, type RegistryContext, type RegistryReply, type RegistryRequest, type UpstreamSearchHit,
} from '@batlehub/sdk'
import type { MavenConfig } from './config.ts'
import { packageName, type ArtifactPath, type ChecksumAlgorithm } from './coordinates.ts'
import { MAX_CHECKSUM_BYTES, parseChecksumFile } from './checksums.ts'
import { parseArtifactMetadata, type ArtifactMetadata } from './metadata.ts'
import { parseXmlDocument } from './xml.ts'

export type MavenContext = RegistryContext<MavenConfig>

/** Solr endpoint of Maven Central's search, used when `search_url` is not set. */
export const DEFAULT_SEARCH_URL = 'https://search.maven.org/solrsearch/select'

/** Largest upstream maven-metadata.xml accepted (Central's largest are a few hundred KiB). */
const MAX_METADATA_BYTES = 16 * 1024 * 1024

/** Storage key of a proxied artifact. */
export function artifactKey(path: string): string {
  return `artifacts/${path}`
}

/** Content type of a repository file by extension. */
export function contentTypeOf(extension: string): string {
  if (extension === 'pom' || extension === 'xml') return 'text/xml'
  if (extension === 'jar' || extension === 'war' || extension === 'ear' || extension === 'aar') return 'application/java-archive'
  if (extension.endsWith('.asc') || extension === 'txt') return 'text/plain'
  if (extension === 'zip') return 'application/zip'
  if (extension === 'module' || extension === 'json') return 'application/json'
  return 'application/octet-stream'
}

/**
 * An upstream maven-metadata.xml through the metadata cache, kept byte for byte (clients verify
 * its checksum against what we compute from the same bytes). Documents that are not Maven metadata
 * (an HTML error page with status 200) count as absent.
 */
export function upstreamMetadata(ctx: MavenContext, path: string, signal?: AbortSignal, name?: string): Promise<MetadataEntry | null> {
  return ctx.cache.metadata({
    key: `metadata/${path}`,
    // Named, an administrator's package invalidation drops it too.
    ...(name ? { name } : {}),
    upstream: { path: `/${path}`, ...(signal ? { signal } : {}) },
    contentType: 'text/xml',
    maxBytes: MAX_METADATA_BYTES,
    transform(body) {
      try {
        parseXmlDocument(body, 'metadata', 'upstream maven-metadata.xml')
        return body
      } catch {
        return null
      }
    },
  })
}

/** The upstream artifact-level metadata of an artifact, parsed; null when absent. */
export async function upstreamArtifactMetadata(ctx: MavenContext, groupId: string, artifactId: string, signal?: AbortSignal): Promise<ArtifactMetadata | null> {
  const path = `${groupId.replace(/\./g, '/')}/${artifactId}/maven-metadata.xml`
  const entry = await upstreamMetadata(ctx, path, signal, packageName(groupId, artifactId))
  if (!entry) return null
  const parsed = parseArtifactMetadata(entry.body, 'upstream maven-metadata.xml')
  return { ...parsed, groupId, artifactId }
}

/**
 * The upstream checksum of a file (hex), through the metadata cache: it is small, and once cached
 * it is served even while the upstream is down. Null when the upstream has none.
 */
export async function upstreamChecksum(ctx: MavenContext, path: string, algorithm: ChecksumAlgorithm, signal?: AbortSignal, name?: string): Promise<string | null> {
  const entry = await ctx.cache.metadata({
    key: `checksums/${path}.${algorithm}`,
    ...(name ? { name } : {}),
    upstream: { path: `/${path}.${algorithm}`, ...(signal ? { signal } : {}) },
    contentType: 'text/plain',
    ttlSecs: ctx.config.checksum_ttl_secs,
    maxBytes: MAX_CHECKSUM_BYTES,
    transform: (body) => parseChecksumFile(body, algorithm),
  })
  if (!entry) return null
  return parseChecksumFile(entry.body, algorithm)
}

/**
 * A proxied artifact through the artifact cache. On a miss the upstream `.sha1` is fetched first
 * and handed over as the expected digest, so bytes that do not match it are never cached.
 */
export async function proxyArtifact(ctx: MavenContext, p: ArtifactPath, req: RegistryRequest): Promise<RegistryReply> {
  if (p.fileVersion.endsWith('-SNAPSHOT')) return passThrough(ctx, p, req)
  const key = artifactKey(p.path)
  let expect: { sha1: string } | undefined
  if (ctx.config.verify_upstream_checksums && !(await ctx.cache.hasArtifact(key))) {
    // An upstream failure here is not fatal: the artifact request reports its own.
    const sha1 = await upstreamChecksum(ctx, p.path, 'sha1', req.signal, packageName(p.groupId, p.artifactId)).catch((err: unknown) => {
      ctx.log.debug('upstream checksum unavailable', { path: p.path, err: (err as Error)?.message })
      return null
    })
    if (sha1) expect = { sha1 }
  }
  return ctx.cache.artifact({
    key,
    name: packageName(p.groupId, p.artifactId),
    version: p.version,
    upstream: { path: `/${p.path}` },
    ...(expect ? { expect } : {}),
    contentType: contentTypeOf(p.extension),
  }, req)
}

/**
 * A non-unique SNAPSHOT file (`x-1.0-SNAPSHOT.jar`) changes with every build: it is streamed from
 * the upstream and never cached.
 */
async function passThrough(ctx: MavenContext, p: ArtifactPath, req: RegistryRequest): Promise<RegistryReply> {
  const res = await ctx.http.request({ path: `/${p.path}`, method: req.method === 'HEAD' ? 'HEAD' : 'GET', signal: req.signal })
  if (res.status !== 200) {
    res.dispose()
    throw new NotFoundError(`${p.path} not found upstream`)
  }
  const headers: Record<string, string> = { 'content-type': contentTypeOf(p.extension), 'cache-control': 'no-cache' }
  if (res.headers['content-length']) headers['content-length'] = res.headers['content-length']
  if (req.method === 'HEAD') {
    res.dispose()
    return { status: 200, headers, body: null }
  }
  return { status: 200, headers, body: res.stream() }
}

/**
 * Maven Central's Solr search (`search_url`, or the default; an empty `search_url` disables it):
 * `?q=<query>&rows=<n>&wt=json` answers `response.docs[]` with `g`, `a` and `latestVersion`.
 */
export async function searchUpstream(ctx: MavenContext, query: string, limit: number, signal?: AbortSignal): Promise<UpstreamSearchHit[]> {
  const base = ctx.registry.searchUrl ?? DEFAULT_SEARCH_URL
  if (base === '') return []
  const url = new URL(base)
  // Operators often give the Solr core (`…/solrsearch`); the query handler is `…/select`.
  if (!url.pathname.endsWith('/select')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/select`
  // "g:a" searches that artifact exactly; anything else is a free-text query.
  const exact = /^([^\s:"]+):([^\s:"]+)$/.exec(query.trim())
  url.searchParams.set('q', exact ? `g:"${exact[1]}" AND a:"${exact[2]}"` : query)
  url.searchParams.set('rows', String(Math.max(1, Math.min(limit, 200))))
  url.searchParams.set('wt', 'json')
  const res = await ctx.http.request({ url: url.toString(), headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) })
  if (res.status !== 200) {
    res.dispose()
    return []
  }
  const body = await res.json<{ response?: { docs?: Array<{ g?: unknown; a?: unknown; latestVersion?: unknown; v?: unknown }> } }>(8 * 1024 * 1024)
  const hits: UpstreamSearchHit[] = []
  for (const doc of body.response?.docs ?? []) {
    if (typeof doc.g !== 'string' || typeof doc.a !== 'string') continue
    const latest = typeof doc.latestVersion === 'string' ? doc.latestVersion : typeof doc.v === 'string' ? doc.v : undefined
    hits.push({ name: packageName(doc.g, doc.a), ...(latest ? { latestVersion: latest } : {}) })
    if (hits.length >= limit) break
  }
  return hits
}
