/**
 * PyPI's JSON API (`/pypi/{name}/json`, `/pypi/{name}/{version}/json`): rewriting upstream documents
 * to hub URLs, and rendering the same shape for local packages. Pure functions.
 */
import type { LocalPackageInfo, LocalVersionInfo, VersionSummary } from '@batlehub/sdk'
import { hubFileUrl } from './simple.ts'
import { compareVersions, isPrerelease } from './names.ts'

/** One file as the JSON API lists it. */
export interface JsonApiFile {
  filename: string
  url: string
  digests?: Record<string, string>
  packagetype?: string
  python_version?: string
  requires_python?: string | null
  size?: number
  upload_time?: string
  upload_time_iso_8601?: string
  yanked?: boolean
  yanked_reason?: string | null
  [key: string]: unknown
}

/** A JSON API document (project or release). */
export interface JsonApiDoc {
  info: Record<string, unknown> & { name?: string; version?: string }
  urls?: JsonApiFile[]
  releases?: Record<string, JsonApiFile[]>
  last_serial?: number
  vulnerabilities?: unknown[]
  [key: string]: unknown
}

/** Rewrites every file URL of an upstream JSON API document to the hub; null when it is not one. */
export function rewriteJsonApi(body: string, project: string): string | null {
  let doc: JsonApiDoc
  try {
    doc = JSON.parse(body) as JsonApiDoc
  } catch {
    return null
  }
  if (!doc || typeof doc !== 'object' || !doc.info || typeof doc.info !== 'object') return null
  const fix = (files: unknown) => {
    if (!Array.isArray(files)) return
    for (const f of files as JsonApiFile[]) {
      if (f && typeof f.filename === 'string') f.url = hubFileUrl(project, f.filename)
    }
  }
  fix(doc.urls)
  if (doc.releases && typeof doc.releases === 'object') for (const files of Object.values(doc.releases)) fix(files)
  return JSON.stringify(doc)
}

/**
 * Versions from a JSON API project document, newest first, with the earliest upload time of each
 * release as its publish time (what the release-age gate compares against).
 */
export function versionsFromJsonApi(doc: JsonApiDoc): VersionSummary[] {
  const out: VersionSummary[] = []
  for (const [version, files] of Object.entries(doc.releases ?? {})) {
    const list = Array.isArray(files) ? files : []
    const times = list.map((f) => f.upload_time_iso_8601 ?? (f.upload_time ? `${f.upload_time}Z` : undefined)).filter((t): t is string => !!t).sort()
    const yanked = list.length > 0 && list.every((f) => f.yanked === true)
    out.push({
      version,
      ...(times[0] ? { publishedAt: new Date(times[0]).toISOString() } : {}),
      prerelease: isPrerelease(version),
      yanked,
    })
  }
  return out.sort((a, b) => compareVersions(b.version, a.version))
}

/** Whether a stored file of a local version is a distribution (and not a PEP 658 `.metadata` companion). */
export function isDistributionFile(f: { filename: string; metadata?: Readonly<Record<string, unknown>> }): boolean {
  return f.metadata?.kind !== 'core-metadata'
}

/** The newest version to present as `info.version`: the newest final, else the newest of all. */
export function latestVersion(versions: readonly LocalVersionInfo[]): LocalVersionInfo | undefined {
  const live = versions.filter((v) => !v.yanked && v.files.some(isDistributionFile))
  const pool = live.length ? live : versions.filter((v) => v.files.some(isDistributionFile))
  const sorted = [...pool].sort((a, b) => compareVersions(b.version, a.version))
  return sorted.find((v) => !isPrerelease(v.version)) ?? sorted[0]
}

function fileEntry(pkg: LocalPackageInfo, v: LocalVersionInfo, f: LocalVersionInfo['files'][number], base: string): JsonApiFile {
  const md = (f.metadata ?? {}) as Record<string, unknown>
  const uploaded = typeof md.upload_time === 'string' ? md.upload_time : v.publishedAt
  const digests: Record<string, string> = { sha256: f.sha256 }
  if (typeof f.digests.md5 === 'string') digests.md5 = f.digests.md5
  if (typeof md.blake2_256 === 'string') digests.blake2b_256 = md.blake2_256
  return {
    filename: f.filename,
    url: hubFileUrl(pkg.name, f.filename, base),
    digests,
    md5_digest: digests.md5 ?? null,
    packagetype: typeof md.packagetype === 'string' ? md.packagetype : f.filename.endsWith('.whl') ? 'bdist_wheel' : 'sdist',
    python_version: typeof md.python_version === 'string' ? md.python_version : f.filename.endsWith('.whl') ? 'py3' : 'source',
    requires_python: typeof md.requires_python === 'string' && md.requires_python ? md.requires_python : null,
    size: f.size,
    upload_time: uploaded.replace(/\.\d+Z$|Z$/, ''),
    upload_time_iso_8601: uploaded,
    yanked: v.yanked,
    yanked_reason: v.yanked ? v.yankReason ?? null : null,
    has_sig: false,
    comment_text: '',
  }
}

/** The `info` object of a version, from the form fields kept at upload. */
function infoOf(pkg: LocalPackageInfo, v: LocalVersionInfo, base: string): Record<string, unknown> {
  const md = v.metadata as Record<string, unknown>
  const str = (k: string) => (typeof md[k] === 'string' ? (md[k] as string) : null)
  const list = (k: string) => (Array.isArray(md[k]) ? (md[k] as string[]) : null)
  return {
    name: pkg.name,
    version: v.version,
    summary: str('summary'),
    description: str('description') ?? '',
    description_content_type: str('description_content_type'),
    author: str('author'),
    author_email: str('author_email'),
    maintainer: str('maintainer'),
    maintainer_email: str('maintainer_email'),
    license: str('license'),
    keywords: str('keywords'),
    classifiers: list('classifiers') ?? [],
    platform: str('platform'),
    home_page: str('home_page'),
    download_url: str('download_url'),
    project_urls: (md.project_urls as Record<string, string> | undefined) ?? null,
    requires_dist: list('requires_dist'),
    requires_python: str('requires_python'),
    provides_extra: list('provides_extra'),
    yanked: v.yanked,
    yanked_reason: v.yanked ? v.yankReason ?? null : null,
    package_url: `${base}/simple/${encodeURIComponent(pkg.normalizedName)}/`,
    project_url: `${base}/simple/${encodeURIComponent(pkg.normalizedName)}/`,
    release_url: `${base}/pypi/${encodeURIComponent(pkg.normalizedName)}/${encodeURIComponent(v.version)}/json`,
    bugtrack_url: null,
    docs_url: null,
  }
}

/**
 * Renders the JSON API document of a local package (`version` omitted) or of one of its versions;
 * null when the version does not exist.
 */
export function renderLocalJsonApi(pkg: LocalPackageInfo, version: string | undefined, base: string): JsonApiDoc | null {
  const withFiles = pkg.versions.filter((v) => v.files.some(isDistributionFile))
  const target = version === undefined ? latestVersion(pkg.versions) : withFiles.find((v) => v.version === version)
  if (!target) return null
  const files = (v: LocalVersionInfo) => v.files.filter(isDistributionFile).map((f) => fileEntry(pkg, v, f, base))
  const doc: JsonApiDoc = { info: infoOf(pkg, target, base), last_serial: 0, urls: files(target), vulnerabilities: [] }
  if (version === undefined) {
    const releases: Record<string, JsonApiFile[]> = {}
    for (const v of [...withFiles].sort((a, b) => compareVersions(a.version, b.version))) releases[v.version] = files(v)
    doc.releases = releases
  }
  return doc
}
