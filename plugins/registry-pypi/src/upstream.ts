/**
 * Every call to the upstream index, through the kernel's metadata and artifact cache: project
 * pages (both forms, cached apart), the root index, the JSON API, and the file lookup behind
 * downloads.
 */
import { UpstreamError, type ArtifactRequest, type MetadataEntry, type RegistryContext } from '@batlehub/sdk'
import type { PypiConfig } from './config.ts'
import { normalizeName, normalizeVersion, parseDistributionFilename } from './names.ts'
import {
  hubFileUrl, parseProjectPage, parseRootIndex, renderProject, renderProjectJson, renderRootIndex, toHubUrls,
  SIMPLE_HTML, SIMPLE_JSON, TEXT_HTML, UPSTREAM_ACCEPT, type SimpleFile, type SimpleFormat, type SimpleProject,
} from './simple.ts'
import { rewriteJsonApi, type JsonApiDoc } from './json-api.ts'

/**
 * Top-level key of the stored PEP 691 JSON page holding each file's upstream URL (PEP 691 reserves
 * `_`-prefixed keys for the index server). Downloads only ever fetch URLs found here, so the hub is
 * never an open proxy.
 */
export const UPSTREAM_URLS_KEY = '_upstream-urls'

/** A file of an upstream project page, with where to fetch it. */
export interface UpstreamFile extends SimpleFile {
  /** The original upstream URL. */
  upstreamUrl: string
}

/** Storage keys allow `[A-Za-z0-9._~@+=,-]`: escape anything else (`!` of epochs) injectively. */
export function keySegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._@+=,-]/g, (c) => `~${c.codePointAt(0)!.toString(16)}~`)
}

/** Storage key of a proxied file (or its `.metadata`). */
export function artifactKey(project: string, filename: string): string {
  return `files/${keySegment(normalizeName(project))}/${keySegment(filename)}`
}

/** Content types of served files: PyPI serves distributions as opaque bytes. */
export function fileContentType(filename: string): string {
  return filename.endsWith('.metadata') ? 'text/plain; charset=utf-8' : 'application/octet-stream'
}

/** The digests to verify a download against: every algorithm the index gave that storage can check. */
export function expectedDigests(hashes: Record<string, string>): ArtifactRequest['expect'] {
  const out: NonNullable<ArtifactRequest['expect']> = {}
  for (const alg of ['sha256', 'sha512', 'sha1', 'md5'] as const) if (hashes[alg]) out[alg] = hashes[alg]
  return Object.keys(out).length ? out : undefined
}

/** Parsed lookups of stored JSON pages, keyed by cache key; reused while the entry is the same fetch. */
interface Lookup {
  fetchedAt: number
  size: number
  files: Map<string, UpstreamFile>
  project: SimpleProject
}

export class UpstreamIndex {
  private readonly lookups = new Map<string, Lookup>()
  private static readonly MAX_LOOKUPS = 512

  private readonly ctx: RegistryContext<PypiConfig>

  constructor(ctx: RegistryContext<PypiConfig>) {
    this.ctx = ctx
  }

  get hasJsonApi(): boolean {
    return this.ctx.config.json_api_path !== ''
  }

  private simplePath(project?: string): string {
    return `${this.ctx.config.simple_path.replace(/\/+$/, '')}/${project === undefined ? '' : `${encodeURIComponent(project)}/`}`
  }

  /**
   * A project page in one form, fetched with that form's `Accept` and stored rendered (URLs rewritten
   * to the hub); null when the upstream has no such project. The JSON form also keeps the upstream
   * URLs (see {@link UPSTREAM_URLS_KEY}).
   */
  projectPage(project: string, format: SimpleFormat, signal?: AbortSignal): Promise<MetadataEntry | null> {
    const name = normalizeName(project)
    const path = this.simplePath(name)
    return this.ctx.cache.metadata({
      key: `simple/${format}/${keySegment(name)}`,
      name,
      upstream: {
        path,
        headers: { accept: format === 'json' ? UPSTREAM_ACCEPT : `${SIMPLE_HTML}, ${TEXT_HTML};q=0.9` },
        ...(signal ? { signal } : {}),
      },
      contentType: format === 'json' ? SIMPLE_JSON : 'text/html; charset=utf-8',
      transform: (body, info) => {
        if (info.status !== 200) return null
        const pageUrl = `${info.upstream.replace(/\/+$/, '')}${path}`
        let parsed: SimpleProject
        try {
          parsed = parseProjectPage(body.toString('utf8'), info.headers['content-type'], name, pageUrl)
        } catch (err) {
          // Unusable, not absent: an UpstreamError lets the kernel serve the last good copy.
          throw new UpstreamError(`upstream page of ${name} is not a simple index page: ${(err as Error).message}`)
        }
        parsed.versions ??= versionsOf(parsed.files)
        const { project: rewritten, upstreamUrls } = toHubUrls(parsed, name)
        return format === 'json' ? renderProjectJson(rewritten, { [UPSTREAM_URLS_KEY]: upstreamUrls }) : renderProject(rewritten, 'html')
      },
    })
  }

  /** The parsed JSON page of a project (memoised per fetch); null when the upstream has none. */
  async project(project: string, signal?: AbortSignal): Promise<Lookup | null> {
    const entry = await this.projectPage(project, 'json', signal)
    if (!entry) return null
    const cached = this.lookups.get(entry.key)
    if (cached && cached.fetchedAt === entry.fetchedAt && cached.size === entry.body.length) return cached
    const doc = JSON.parse(entry.body.toString('utf8')) as Record<string, unknown>
    const urls = (doc[UPSTREAM_URLS_KEY] ?? {}) as Record<string, string>
    // The stored page is our own rendering: parse it back with the same parser.
    const parsed = parseProjectPage(entry.body.toString('utf8'), SIMPLE_JSON, normalizeName(project), 'http://hub.invalid/')
    const files = new Map<string, UpstreamFile>()
    for (const f of parsed.files) {
      // Back to the placeholder form it was stored in (the parser resolved it against a dummy base).
      f.url = hubFileUrl(project, f.filename)
      const upstreamUrl = urls[f.filename]
      if (upstreamUrl) files.set(f.filename, { ...f, upstreamUrl })
    }
    const lookup: Lookup = { fetchedAt: entry.fetchedAt, size: entry.body.length, files, project: parsed }
    this.lookups.delete(entry.key)
    this.lookups.set(entry.key, lookup)
    if (this.lookups.size > UpstreamIndex.MAX_LOOKUPS) this.lookups.delete(this.lookups.keys().next().value!)
    return lookup
  }

  /** The artifact request of a file (or of its PEP 658 `.metadata`), or null when the index does not list it. */
  async artifact(project: string, filename: string, signal?: AbortSignal): Promise<ArtifactRequest | null> {
    const lookup = await this.project(project, signal)
    if (!lookup) return null
    return artifactRequest(project, filename, lookup.files)
  }

  /** The root index in one form, re-rendered with relative links. */
  rootIndex(format: SimpleFormat, signal?: AbortSignal): Promise<MetadataEntry | null> {
    return this.ctx.cache.metadata({
      key: `simple-root/${format}`,
      upstream: { path: this.simplePath(), headers: { accept: format === 'json' ? UPSTREAM_ACCEPT : TEXT_HTML }, ...(signal ? { signal } : {}) },
      contentType: format === 'json' ? SIMPLE_JSON : 'text/html; charset=utf-8',
      // pypi.org's root page is tens of megabytes.
      maxBytes: 256 * 1024 * 1024,
      transform: (body, info) => {
        if (info.status !== 200) return null
        try {
          return renderRootIndex(parseRootIndex(body.toString('utf8'), info.headers['content-type']), format)
        } catch (err) {
          throw new UpstreamError(`upstream root index is unreadable: ${(err as Error).message}`)
        }
      },
    })
  }

  /** A JSON API document (`/pypi/{name}/json` or `/pypi/{name}/{version}/json`) with hub URLs. */
  jsonApi(project: string, version: string | undefined, signal?: AbortSignal): Promise<MetadataEntry | null> {
    const name = normalizeName(project)
    const base = this.ctx.config.json_api_path.replace(/\/+$/, '')
    const path = version === undefined
      ? `${base}/${encodeURIComponent(name)}/json`
      : `${base}/${encodeURIComponent(name)}/${encodeURIComponent(version)}/json`
    return this.ctx.cache.metadata({
      key: version === undefined ? `pypi-json/${keySegment(name)}` : `pypi-json/${keySegment(name)}/${keySegment(version)}`,
      name,
      upstream: { path, headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) },
      contentType: 'application/json',
      transform: (body, info) => (info.status === 200 ? rewriteJsonApi(body.toString('utf8'), name) : null),
    })
  }

  /**
   * The JSON API document of one project for the explorer's exact-name lookup: from `search_url`
   * (`{search_url}/{name}/json`, uncached) when the operator set one, else the cached JSON API.
   */
  async lookupByName(project: string, signal?: AbortSignal): Promise<JsonApiDoc | null> {
    const name = normalizeName(project)
    const searchUrl = this.ctx.registry.searchUrl
    if (searchUrl) {
      const res = await this.ctx.http.request({ url: `${searchUrl.replace(/\/+$/, '')}/${encodeURIComponent(name)}/json`, headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) })
      if (res.status !== 200) {
        res.dispose()
        return null
      }
      return res.json<JsonApiDoc>(16 * 1024 * 1024)
    }
    if (!this.hasJsonApi) return null
    const entry = await this.jsonApi(name, undefined, signal)
    return entry ? (JSON.parse(entry.body.toString('utf8')) as JsonApiDoc) : null
  }
}

/** Versions named by a page's file names, in order of first appearance. */
function versionsOf(files: readonly SimpleFile[]): string[] {
  const seen = new Set<string>()
  for (const f of files) {
    const parsed = parseDistributionFilename(f.filename)
    if (parsed) seen.add(normalizeVersion(parsed.version) ?? parsed.version)
  }
  return [...seen]
}

/** Builds the artifact request of `filename` from a project's files. */
export function artifactRequest(project: string, filename: string, files: ReadonlyMap<string, UpstreamFile>): ArtifactRequest | null {
  const name = normalizeName(project)
  const isMetadata = filename.endsWith('.metadata') && !files.has(filename)
  const dist = files.get(isMetadata ? filename.slice(0, -'.metadata'.length) : filename)
  if (!dist) return null
  if (isMetadata && dist.coreMetadata === false) return null
  const parsed = parseDistributionFilename(dist.filename, name)
  const hashes = isMetadata ? (dist.coreMetadata as Record<string, string>) : dist.hashes
  const expect = expectedDigests(hashes)
  return {
    key: artifactKey(name, filename),
    name,
    ...(parsed ? { version: parsed.version } : {}),
    upstream: { url: isMetadata ? `${dist.upstreamUrl}.metadata` : dist.upstreamUrl },
    ...(expect ? { expect } : {}),
    contentType: fileContentType(filename),
    ...(dist.uploadTime ? { publishedAt: dist.uploadTime } : {}),
  }
}
