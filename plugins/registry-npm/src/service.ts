/**
 * What the routes share: packuments through the cache or from the local store, the tarball index,
 * and the mode rules (proxy, local, hybrid with its dependency-confusion guard).
 */
import {
  NotFoundError, type ArtifactRequest, type Identity, type LocalPackageInfo, type MetadataEntry, type MetadataRequest,
  type RegistryContext, type RegistryReply, type RegistryRequest, type VersionSummary,
} from '@batlehub/sdk'
import { ABBREVIATED_ACCEPT, ABBREVIATED_TYPE, FULL_ACCEPT, FULL_TYPE, type PackumentForm } from './accept.ts'
import type { NpmConfig } from './config.ts'
import { createTarballIndexes, type TarballIndexes } from './indexes.ts'
import {
  mergePackuments, renderLocal, revisionOf, transformUpstream, versionSummaries,
  type CompactIndex, type TarballRef,
} from './metadata.ts'
import { keyPath, keySegment, tarballFile, type PackageName } from './names.ts'
import { sriDigest } from './publish.ts'
import { NpmPolicy } from './policy.ts'

type Json = Record<string, any>

/** Where a name is served from, by mode (and, in hybrid mode, by whether it exists locally). */
export type Source =
  | { kind: 'local'; pkg: LocalPackageInfo }
  | { kind: 'upstream' }
  | { kind: 'merged'; pkg: LocalPackageInfo }

const VARY = { vary: 'Accept, Authorization' }

export class NpmService {
  readonly ctx: RegistryContext<NpmConfig>
  readonly indexes: TarballIndexes
  /** Version filtering by the kernel's policy engine (blocklist, age gate, deny_latest). */
  readonly policy: NpmPolicy
  /** Rendered local packuments: `{form}\0{name}` → { rev, entry }. */
  private readonly localRenders = new Map<string, { rev: string; entry: MetadataEntry }>()
  /** Stored packument bodies already folded into the tarball index. */
  private readonly indexedBodies = new WeakSet<Buffer>()
  /** Last forced packument refresh per package (a missing version may force one per minute). */
  private readonly refreshed = new Map<string, number>()

  constructor(ctx: RegistryContext<NpmConfig>) {
    this.ctx = ctx
    this.indexes = createTarballIndexes({ records: ctx.records, maxPackages: ctx.config.index_cache_packages, log: ctx.log })
    this.policy = new NpmPolicy(this)
  }

  get mode() {
    return this.ctx.registry.mode
  }

  // -------------------------------------------------------------------------------------------
  // Sources
  // -------------------------------------------------------------------------------------------

  /**
   * Where `name` comes from for this caller. Hybrid mode: a name that exists locally is served from
   * the local store only (unless `hybrid_merge_upstream`), even when the caller may not see it, so
   * a public package of the same name can never stand in for a private one.
   */
  async source(name: PackageName, identity: Identity): Promise<Source> {
    if (this.mode === 'proxy') return { kind: 'upstream' }
    if (this.mode === 'hybrid' && !(await this.ctx.packages.exists(name.name))) return { kind: 'upstream' }
    const pkg = await this.ctx.packages.getPackage(name.name, { identity })
    if (!pkg) throw new NotFoundError(`package ${name.name} not found`)
    return this.mode === 'hybrid' && this.ctx.registry.hybridMergeUpstream ? { kind: 'merged', pkg } : { kind: 'local', pkg }
  }

  // -------------------------------------------------------------------------------------------
  // Upstream packuments
  // -------------------------------------------------------------------------------------------

  /** The cache request of a packument form: two keys and two upstream `Accept`s per package. */
  packumentRequest(name: PackageName, form: PackumentForm, signal?: AbortSignal): MetadataRequest {
    return {
      key: `packument/${form}/${keyPath(name)}`,
      // Lets an administrator's package invalidation drop both forms.
      name: name.name,
      // The public registry wants a scoped name as one path segment: `/@scope%2fname`.
      upstream: { path: `/${name.scope ? `@${name.scope}%2f${name.bare}` : name.bare}`, headers: { accept: form === 'abbreviated' ? ABBREVIATED_ACCEPT : FULL_ACCEPT }, ...(signal ? { signal } : {}) },
      contentType: form === 'abbreviated' ? ABBREVIATED_TYPE : FULL_TYPE,
      maxBytes: this.ctx.config.max_packument_bytes,
      ...(signal ? { signal } : {}),
      transform: async (body, info) => {
        const stored = transformUpstream(body, { name, form, upstream: info.upstream })
        if (!stored) {
          this.ctx.log.warn('upstream answered a packument request with something that is not a packument', { package: name.name, upstream: info.upstream })
          return null
        }
        await this.indexes.update(name, stored.index)
        return stored.body
      },
    }
  }

  /** The cached upstream packument, or null when the upstream does not have the package. */
  upstreamPackument(name: PackageName, form: PackumentForm, signal?: AbortSignal): Promise<MetadataEntry | null> {
    return this.ctx.cache.metadata(this.packumentRequest(name, form, signal))
  }

  /** The parsed cached upstream packument (not for hot paths). */
  async upstreamDoc(name: PackageName, form: PackumentForm, signal?: AbortSignal): Promise<Json | null> {
    const entry = await this.upstreamPackument(name, form, signal)
    return entry ? (JSON.parse(entry.body.toString('utf8')) as Json) : null
  }

  // -------------------------------------------------------------------------------------------
  // Packuments for clients
  // -------------------------------------------------------------------------------------------

  /** Answers a packument request: memoised bytes, no JSON parse on the hot path. */
  async servePackument(req: RegistryRequest, name: PackageName, form: PackumentForm): Promise<RegistryReply> {
    const entry = await this.packumentEntry(name, form, req.identity, req.signal)
    // Policy: versions this caller may not download are left out (the same entry when none are).
    const served = await this.policy.entryFor(entry, name, form, req.identity, req.signal)
    return this.ctx.cache.serveMetadata(served, req, { headers: VARY })
  }

  /** The cached packument of a name for this caller (upstream, local or merged), unfiltered. */
  async packumentEntry(name: PackageName, form: PackumentForm, identity: Identity, signal?: AbortSignal): Promise<MetadataEntry> {
    const src = await this.source(name, identity)
    if (src.kind === 'upstream') {
      const entry = await this.upstreamPackument(name, form, signal)
      if (!entry) throw new NotFoundError(`package ${name.name} not found`)
      return entry
    }
    return this.localEntry(src, name, form, signal)
  }

  /** The parsed packument of a name as a client would see it (version documents, dist-tags, hooks). */
  async packumentDoc(name: PackageName, form: PackumentForm, identity: Identity, signal?: AbortSignal): Promise<Json> {
    const src = await this.source(name, identity)
    if (src.kind === 'upstream') {
      const doc = await this.upstreamDoc(name, form, signal)
      if (!doc) throw new NotFoundError(`package ${name.name} not found`)
      return doc
    }
    const entry = await this.localEntry(src, name, form, signal)
    return JSON.parse(entry.body.toString('utf8')) as Json
  }

  /** A local (or merged) packument as a cache entry, rendered once per revision. */
  private async localEntry(src: Exclude<Source, { kind: 'upstream' }>, name: PackageName, form: PackumentForm, signal?: AbortSignal): Promise<MetadataEntry> {
    let upstream: MetadataEntry | null = null
    if (src.kind === 'merged') {
      try {
        upstream = await this.upstreamPackument(name, form, signal)
      } catch (err) {
        // The local versions still install when the upstream is unreachable.
        this.ctx.log.warn('upstream packument unavailable for a merged hybrid package', { package: name.name, err: (err as Error).message })
      }
    }
    const rev = `${revisionOf(src.pkg)}${upstream ? `+${upstream.fetchedAt}` : ''}`
    const memoKey = `${form}\0${name.name}`
    const memo = this.localRenders.get(memoKey)
    if (memo && memo.rev === rev) return memo.entry
    let doc = renderLocal(src.pkg, name, form)
    if (upstream) doc = mergePackuments(JSON.parse(upstream.body.toString('utf8')) as Json, doc)
    const entry: MetadataEntry = {
      // The revision is part of the key: the kernel memoises rendered bytes per key.
      key: `local/${form}/${keyPath(name)}/${rev}`,
      body: Buffer.from(JSON.stringify(doc)),
      contentType: form === 'abbreviated' ? ABBREVIATED_TYPE : FULL_TYPE,
      fetchedAt: Date.parse(src.pkg.updatedAt) || this.ctx.clock.now(),
      state: 'fresh',
      upstream: 'local',
    }
    this.localRenders.delete(memoKey)
    this.localRenders.set(memoKey, { rev, entry })
    while (this.localRenders.size > 1000) this.localRenders.delete(this.localRenders.keys().next().value!)
    return entry
  }

  /** Drops the rendered copies of a local package (after a publish, tag move, deprecation…). */
  forgetLocal(name: PackageName): void {
    this.localRenders.delete(`full\0${name.name}`)
    this.localRenders.delete(`abbreviated\0${name.name}`)
  }

  // -------------------------------------------------------------------------------------------
  // Tarballs
  // -------------------------------------------------------------------------------------------

  /**
   * Where a proxied version's tarball comes from. Normally one map lookup; the first request after
   * a restart reads the stored index; a version the index lacks fetches the packument (once a
   * minute at most for a version the fresh packument does not list).
   */
  async tarballRef(name: PackageName, version: string, signal?: AbortSignal): Promise<TarballRef | null> {
    const known = await this.indexes.find(name, version)
    if (known) return known
    const entry = await this.upstreamPackument(name, 'abbreviated', signal)
    if (!entry) return null
    const after = (await this.indexes.find(name, version)) ?? (await this.indexStored(entry, name, version))
    if (after) return after
    if (entry.state === 'fetched') return null
    // The cached packument predates the version (a lockfile made elsewhere): refresh it, at most
    // once a minute per package so that requests for made-up versions cannot hammer the upstream.
    const key = keyPath(name)
    const last = this.refreshed.get(key) ?? 0
    const now = this.ctx.clock.now()
    if (now - last < 60_000) return null
    this.refreshed.set(key, now)
    if (this.refreshed.size > 10_000) this.refreshed.delete(this.refreshed.keys().next().value!)
    // A zero TTL revalidates now; the cached copy stays (and is served stale) if the upstream is down.
    const fresh = await this.ctx.cache.metadata({ ...this.packumentRequest(name, 'abbreviated', signal), ttlSecs: 0 })
    if (!fresh) return null
    return (await this.indexes.find(name, version)) ?? (await this.indexStored(fresh, name, version))
  }

  /**
   * Indexes a cached packument that was not indexed in this process (after a restart, when its
   * tarball URLs were canonical and so not persisted), once per stored document.
   */
  private async indexStored(entry: MetadataEntry, name: PackageName, version: string): Promise<TarballRef | null> {
    const current = await this.indexes.get(name)
    // Already folded in (and still indexed): the document does not list the version.
    if (current && this.indexedBodies.has(entry.body)) return null
    this.indexedBodies.add(entry.body)
    const rebuilt = indexFromStored(entry, name)
    // Entries already known (with their real upstream URLs) win over the canonical guesses.
    await this.indexes.update(name, current ? { u: rebuilt.u, v: { ...rebuilt.v, ...current.v } } : rebuilt, { persist: false })
    return (await this.indexes.find(name, version)) ?? null
  }

  /** The cache request of a proxied tarball, with the digests the packument declares. */
  artifactRequest(name: PackageName, version: string, ref: TarballRef): ArtifactRequest {
    const file = tarballFile(name, version)
    const expect: ArtifactRequest['expect'] = {}
    const sha512 = sriDigest(ref.integrity, 'sha512')
    if (sha512) expect.sha512 = `sha512-${sha512}`
    if (ref.shasum) expect.sha1 = ref.shasum
    else {
      const sha1 = sriDigest(ref.integrity, 'sha1')
      if (sha1) expect.sha1 = Buffer.from(sha1, 'base64').toString('hex')
    }
    return {
      key: `tarballs/${keyPath(name)}/${keySegment(file)}`,
      name: name.name,
      version,
      upstream: { url: ref.url },
      expect,
      contentType: 'application/octet-stream',
    }
  }

  /** Versions (newest first) with publish times, for warming, the explorer and the age gate. */
  async listVersions(name: PackageName, identity: Identity, signal?: AbortSignal): Promise<VersionSummary[] | null> {
    try {
      const doc = await this.packumentDoc(name, 'full', identity, signal)
      return versionSummaries(doc)
    } catch (err) {
      if ((err as { code?: string }).code === 'BH_NOT_FOUND') return null
      throw err
    }
  }
}

/** A compact index rebuilt from a stored packument (digests kept, canonical upstream URLs). */
export function indexFromStored(entry: MetadataEntry, name: PackageName): CompactIndex {
  const doc = JSON.parse(entry.body.toString('utf8')) as Json
  const base = entry.upstream.replace(/\/+$/, '')
  const v: CompactIndex['v'] = {}
  for (const [version, manifest] of Object.entries((doc.versions ?? {}) as Json)) {
    const dist = (manifest as Json)?.dist ?? {}
    v[version] = [typeof dist.integrity === 'string' ? dist.integrity : 0, typeof dist.shasum === 'string' ? dist.shasum : 0]
  }
  return { u: base, v }
}
