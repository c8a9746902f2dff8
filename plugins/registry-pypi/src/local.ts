/**
 * Local (published) packages in Simple API form, and the hybrid merge with an upstream page.
 * Pure functions over the kernel's package records.
 */
import type { LocalPackageInfo, LocalVersionInfo } from '@batlehub/sdk'
import { canonicalVersion, compareVersions, normalizeName, parseDistributionFilename } from './names.ts'
import { hubFileUrl, type SimpleFile, type SimpleProject } from './simple.ts'
import { isDistributionFile } from './json-api.ts'

/** Kept in a stored file's metadata to mark the PEP 658 companion of a wheel. */
export const CORE_METADATA_KIND = 'core-metadata'

/** Versions oldest first, as indexes list them. */
function ascending(versions: readonly LocalVersionInfo[]): LocalVersionInfo[] {
  return [...versions].sort((a, b) => compareVersions(a.version, b.version))
}

/** The project page of a local package, with file URLs below `base`. */
export function localProject(pkg: LocalPackageInfo, base: string): SimpleProject {
  const files: SimpleFile[] = []
  const versions: string[] = []
  for (const v of ascending(pkg.versions)) {
    const dists = v.files.filter(isDistributionFile)
    if (dists.length === 0) continue
    versions.push(v.version)
    for (const f of dists) {
      const md = (f.metadata ?? {}) as Record<string, unknown>
      const companion = v.files.find((c) => c.filename === `${f.filename}.metadata` && !isDistributionFile(c))
      const hashes: Record<string, string> = { sha256: f.sha256 }
      if (typeof f.digests.md5 === 'string') hashes.md5 = f.digests.md5
      const file: SimpleFile = {
        filename: f.filename,
        url: hubFileUrl(pkg.name, f.filename, base),
        hashes,
        yanked: v.yanked ? v.yankReason || true : false,
        coreMetadata: companion ? { sha256: companion.sha256 } : false,
        size: f.size,
        uploadTime: typeof md.upload_time === 'string' ? md.upload_time : v.publishedAt,
      }
      if (typeof md.requires_python === 'string' && md.requires_python) file.requiresPython = md.requires_python
      files.push(file)
    }
  }
  return { name: pkg.name, files, versions }
}

/**
 * Hybrid merge (`hybrid_merge_upstream = true`): the local page plus the upstream files of versions
 * the local package does not have. A local version always wins as a whole, so an upstream file can
 * never be mixed into a release published here.
 */
export function mergeProjects(local: SimpleProject, upstream: SimpleProject): SimpleProject {
  const localVersions = new Set((local.versions ?? []).map(canonicalVersion))
  const localFiles = new Set(local.files.map((f) => f.filename))
  const extra = upstream.files.filter((f) => {
    if (localFiles.has(f.filename)) return false
    const parsed = parseDistributionFilename(f.filename, normalizeName(local.name))
    return !parsed || !localVersions.has(canonicalVersion(parsed.version))
  })
  const versions = [...(local.versions ?? [])]
  for (const v of upstream.versions ?? []) if (!localVersions.has(canonicalVersion(v))) versions.push(v)
  return { name: local.name, files: [...extra, ...local.files], versions }
}

/** Finds the version and file record of `filename` in a local package. */
export function findLocalFile(pkg: LocalPackageInfo, filename: string): { version: LocalVersionInfo; file: LocalVersionInfo['files'][number] } | null {
  for (const version of pkg.versions) {
    const file = version.files.find((f) => f.filename === filename)
    if (file) return { version, file }
  }
  return null
}
