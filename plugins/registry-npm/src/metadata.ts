/**
 * Pure packument transforms: upstream documents into the stored forms (tarball URLs pointing at the
 * hub through the base-URL placeholder), the abbreviated form, the compact tarball index, local
 * packuments rendered from the store's records, and the hybrid merge.
 *
 * Everything here runs once per upstream fetch or per local change, never per download: the kernel
 * memoises the rendered bytes.
 */
import { createHash } from 'node:crypto'
import { BASE_URL_PLACEHOLDER, type LocalPackageInfo, type LocalVersionInfo, type VersionSummary } from '@batlehub/sdk'
import { isVersionString, tarballFile, urlPath, type PackageName } from './names.ts'
import type { PackumentForm } from './accept.ts'

type Json = Record<string, any>

/**
 * Fields of a version in the abbreviated ("corgi") packument, as the public registry serves them
 * (npm/registry docs: responses/package-metadata.md, plus the fields installers read since).
 */
export const ABBREVIATED_VERSION_FIELDS = [
  'name', 'version', 'deprecated', 'dependencies', 'optionalDependencies', 'devDependencies', 'bundleDependencies',
  'bundledDependencies', 'peerDependencies', 'peerDependenciesMeta', 'acceptDependencies', 'bin', 'directories',
  'dist', 'engines', 'cpu', 'os', 'libc', 'funding', 'license', '_hasShrinkwrap', 'hasInstallScript',
] as const

/** Version-level fields the public registry keeps only at the root of the full document. */
const ROOT_ONLY_VERSION_FIELDS = ['readme', 'readmeFilename'] as const

/** Where to fetch a version's tarball upstream, and the digests it must match. */
export interface TarballRef {
  readonly url: string
  /** SRI string(s) from `dist.integrity`. */
  readonly integrity?: string
  /** Hex sha1 from `dist.shasum`. */
  readonly shasum?: string
}

/**
 * The compact per-package tarball index kept beside a cached packument: version → [integrity,
 * shasum, url]. The URL is left out when it is the canonical `{upstream}/{name}/-/{bare}-{version}.tgz`,
 * which it is for nearly every package of the public registry.
 */
export interface CompactIndex {
  /** The upstream base URL the canonical tarball URLs hang off. */
  readonly u: string
  readonly v: Record<string, [string | 0, string | 0] | [string | 0, string | 0, string]>
}

/** The hub-relative tarball URL written into stored documents. */
export function hubTarballUrl(name: PackageName, version: string): string {
  return `${BASE_URL_PLACEHOLDER}/${urlPath(name)}/-/${tarballFile(name, version)}`
}

/** The canonical upstream tarball URL of a version. */
export function canonicalTarballUrl(upstream: string, name: PackageName, version: string): string {
  return `${upstream.replace(/\/+$/, '')}/${urlPath(name)}/-/${tarballFile(name, version)}`
}

/** Looks a version up in a compact index. */
export function lookupTarball(index: CompactIndex, name: PackageName, version: string): TarballRef | null {
  if (!Object.hasOwn(index.v, version)) return null
  const [integrity, shasum, url] = index.v[version]!
  return {
    url: url ?? canonicalTarballUrl(index.u, name, version),
    ...(integrity ? { integrity } : {}),
    ...(shasum ? { shasum } : {}),
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function pick(source: Json, fields: readonly string[]): Json {
  const out: Json = {}
  for (const f of fields) if (Object.hasOwn(source, f) && source[f] !== undefined) out[f] = source[f]
  return out
}

/** The abbreviated form of a (full or already abbreviated) packument. */
export function abbreviate(doc: Json): Json {
  const versions: Json = {}
  for (const [v, manifest] of Object.entries(isObject(doc.versions) ? doc.versions : {})) {
    if (isObject(manifest)) versions[v] = pick(manifest, ABBREVIATED_VERSION_FIELDS)
  }
  const modified = typeof doc.modified === 'string' ? doc.modified : isObject(doc.time) && typeof doc.time.modified === 'string' ? doc.time.modified : undefined
  return {
    name: doc.name,
    ...(modified ? { modified } : {}),
    'dist-tags': isObject(doc['dist-tags']) ? doc['dist-tags'] : {},
    versions,
  }
}

/** Result of {@link transformUpstream}. */
export interface StoredPackument {
  /** The stored document, tarball URLs replaced with hub URLs under the placeholder. */
  readonly body: string
  readonly index: CompactIndex
}

/**
 * Turns an upstream packument into the stored form of `form`.
 *
 * - Each version's `dist.tarball` becomes `{placeholder}/{name}/-/{bare}-{version}.tgz`; the upstream
 *   URL (resolved against the URL that answered) and the digests go to the compact index.
 * - Versions the hub could not serve safely (a version string unfit for a file name, no tarball) are
 *   dropped, and dist-tags pointing at them with them.
 * - `dist.integrity`, `dist.shasum`, `dist.signatures`, attestations and every other field pass
 *   through untouched.
 * - An upstream that ignored the abbreviated `Accept` is abbreviated here, so the two cache keys
 *   always hold their own form.
 *
 * Returns null when the body is not a packument (not a JSON object).
 */
export function transformUpstream(body: Buffer | string, o: { name: PackageName; form: PackumentForm; upstream: string; answeredUrl?: string }): StoredPackument | null {
  let doc: unknown
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch {
    return null
  }
  if (!isObject(doc)) return null
  const base = o.upstream.replace(/\/+$/, '')
  const index: CompactIndex = { u: base, v: {} }
  const versions: Json = isObject(doc.versions) ? doc.versions : {}
  for (const v of Object.keys(versions)) {
    const manifest = versions[v]
    const dist = isObject(manifest) ? manifest.dist : undefined
    if (!isVersionString(v) || !isObject(dist) || typeof dist.tarball !== 'string') {
      delete versions[v]
      continue
    }
    let url: string
    try {
      url = new URL(dist.tarball, o.answeredUrl ?? `${base}/`).href
    } catch {
      delete versions[v]
      continue
    }
    if (!/^https?:$/.test(new URL(url).protocol)) {
      delete versions[v]
      continue
    }
    const integrity = typeof dist.integrity === 'string' ? dist.integrity : 0
    const shasum = typeof dist.shasum === 'string' && /^[0-9a-fA-F]{40}$/.test(dist.shasum) ? dist.shasum.toLowerCase() : 0
    index.v[v] = url === canonicalTarballUrl(base, o.name, v) ? [integrity, shasum] : [integrity, shasum, url]
    dist.tarball = hubTarballUrl(o.name, v)
  }
  doc.versions = versions
  if (isObject(doc['dist-tags'])) {
    for (const [tag, v] of Object.entries(doc['dist-tags'])) if (typeof v !== 'string' || !Object.hasOwn(versions, v)) delete doc['dist-tags'][tag]
  } else {
    doc['dist-tags'] = {}
  }
  const stored = o.form === 'abbreviated' ? abbreviate(doc) : doc
  return { body: JSON.stringify(stored), index }
}

/** The version numbers of a packument, in document order. */
export function versionsOf(doc: Json): string[] {
  return isObject(doc.versions) ? Object.keys(doc.versions) : []
}

/**
 * Versions of a full packument, newest first by publish time (`time`), with prerelease flags; the
 * release-age gate and cache warming read these.
 */
export function versionSummaries(doc: Json): VersionSummary[] {
  const time: Json = isObject(doc.time) ? doc.time : {}
  const list = versionsOf(doc).map((version, i) => {
    const at = typeof time[version] === 'string' ? time[version] : undefined
    return { version, i, at, summary: { version, ...(at ? { publishedAt: at } : {}), prerelease: /^[^+]*-/.test(version) } as VersionSummary }
  })
  list.sort((a, b) => (a.at && b.at ? b.at.localeCompare(a.at) : a.at ? -1 : b.at ? 1 : b.i - a.i))
  return list.map((x) => x.summary)
}

/** The version a spec names in a packument: an exact version or a dist-tag. */
export function resolveSpec(doc: Json, spec: string): Json | null {
  const versions: Json = isObject(doc.versions) ? doc.versions : {}
  if (Object.hasOwn(versions, spec) && isObject(versions[spec])) return versions[spec]
  const tags: Json = isObject(doc['dist-tags']) ? doc['dist-tags'] : {}
  const tagged = Object.hasOwn(tags, spec) ? tags[spec] : undefined
  if (typeof tagged === 'string' && Object.hasOwn(versions, tagged) && isObject(versions[tagged])) return versions[tagged]
  return null
}

// ---------------------------------------------------------------------------------------------
// Local packages
// ---------------------------------------------------------------------------------------------

/** A stable `_rev` for a local package: changes whenever a version, tag or deprecation changes. */
export function revisionOf(pkg: LocalPackageInfo): string {
  const h = createHash('sha1')
  h.update(pkg.updatedAt)
  for (const v of pkg.versions) h.update(`\0${v.version}\0${v.deprecated ?? ''}\0${v.yanked ? 1 : 0}`)
  for (const [t, v] of Object.entries(pkg.tags)) h.update(`\0${t}=${v}`)
  return `${pkg.versions.length + 1}-${h.digest('hex').slice(0, 32)}`
}

/** The tarball file of a local version (the first `.tgz` it holds). */
export function localTarball(v: LocalVersionInfo): string | undefined {
  return v.files.find((f) => f.filename.endsWith('.tgz'))?.filename
}

function localManifest(name: PackageName, v: LocalVersionInfo): Json {
  const m: Json = { ...(v.metadata as Json) }
  for (const f of ROOT_ONLY_VERSION_FIELDS) delete m[f]
  const dist: Json = isObject(m.dist) ? { ...m.dist } : {}
  const file = v.files.find((f) => f.filename === localTarball(v))
  dist.tarball = hubTarballUrl(name, v.version)
  if (file && !dist.shasum && file.digests.sha1) dist.shasum = file.digests.sha1
  if (file && !dist.integrity && file.digests.sha512) dist.integrity = `sha512-${Buffer.from(file.digests.sha512, 'hex').toString('base64')}`
  if (file && dist.unpackedSize === undefined && typeof m._unpackedSize === 'number') dist.unpackedSize = m._unpackedSize
  m.dist = dist
  m.name = name.name
  m.version = v.version
  m._id = `${name.name}@${v.version}`
  if (v.deprecated) m.deprecated = v.deprecated
  else delete m.deprecated
  if (v.publishedBy && !m._npmUser) m._npmUser = { name: v.publishedBy }
  return m
}

/** The dist-tags of a local package: only tags pointing at served versions, and always a `latest`. */
export function localDistTags(pkg: LocalPackageInfo, served: ReadonlySet<string>): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const [t, v] of Object.entries(pkg.tags)) if (served.has(v)) tags[t] = v
  if (!tags.latest) {
    // Newest published non-prerelease version, else the newest of all.
    const candidates = pkg.versions.filter((v) => served.has(v.version))
    const stable = candidates.find((v) => !v.prerelease) ?? candidates[0]
    if (stable) tags.latest = stable.version
  }
  return tags
}

/**
 * Renders the packument of a local package in `form`, tarball URLs under the placeholder. Yanked
 * versions are left out (new installs cannot resolve them; lockfiles still download their tarballs).
 */
export function renderLocal(pkg: LocalPackageInfo, name: PackageName, form: PackumentForm): Json {
  const versions: Json = {}
  const time: Json = { created: pkg.createdAt, modified: pkg.updatedAt }
  const served = new Set<string>()
  const publishers = new Map<string, Json>()
  // Oldest first, so the document lists versions in publish order like the public registry.
  for (const v of [...pkg.versions].reverse()) {
    if (v.yanked) continue
    versions[v.version] = localManifest(name, v)
    time[v.version] = v.publishedAt
    served.add(v.version)
    if (v.publishedBy) publishers.set(v.publishedBy, { name: v.publishedBy })
  }
  const tags = localDistTags(pkg, served)
  const doc: Json = { _id: name.name, _rev: revisionOf(pkg), name: name.name, 'dist-tags': tags, versions, time }
  const latest = pkg.versions.find((v) => v.version === tags.latest)
  const latestMeta: Json = (latest?.metadata as Json) ?? {}
  const description = pkg.description ?? latestMeta.description
  if (description) doc.description = description
  for (const f of ['author', 'repository', 'homepage', 'keywords', 'bugs', 'license']) if (latestMeta[f] !== undefined) doc[f] = latestMeta[f]
  doc.maintainers = [...publishers.values()]
  if (typeof latestMeta.readme === 'string') doc.readme = latestMeta.readme
  if (typeof latestMeta.readmeFilename === 'string') doc.readmeFilename = latestMeta.readmeFilename
  if (form === 'abbreviated') return abbreviate(doc)
  return doc
}

/**
 * Hybrid mode with `hybrid_merge_upstream`: the upstream document with the local versions laid
 * over it (a local version wins over an upstream one of the same number, local tags over upstream
 * tags).
 */
export function mergePackuments(upstream: Json, local: Json): Json {
  const out: Json = { ...upstream, ...local }
  out.versions = { ...(isObject(upstream.versions) ? upstream.versions : {}), ...(isObject(local.versions) ? local.versions : {}) }
  out['dist-tags'] = { ...(isObject(upstream['dist-tags']) ? upstream['dist-tags'] : {}), ...(isObject(local['dist-tags']) ? local['dist-tags'] : {}) }
  if (isObject(upstream.time) || isObject(local.time)) {
    out.time = { ...(isObject(upstream.time) ? upstream.time : {}), ...(isObject(local.time) ? local.time : {}) }
    const mods = [upstream.time?.modified, local.time?.modified].filter((x): x is string => typeof x === 'string').sort()
    if (mods.length) out.time.modified = mods[mods.length - 1]
  }
  if (typeof upstream.modified === 'string' || typeof local.modified === 'string') {
    out.modified = [upstream.modified, local.modified].filter((x): x is string => typeof x === 'string').sort().pop()
  }
  return out
}
