/**
 * Local (published) crates as cargo sees them: index lines rendered from the kernel's package
 * records, and the `.crate` file of a version.
 */
import type { Identity, LocalFileInfo, LocalPackageInfo, LocalVersionInfo } from '@batlehub/sdk'
import { renderIndexLine, type CrateVersionMetadata, type IndexLine, type IndexTemplate } from './metadata.ts'
import { normalizeCrateName } from './names.ts'

/** File name of a published `.crate` within its version. */
export function crateFilename(name: string, version: string): string {
  return `${normalizeCrateName(name)}-${version}.crate`
}

/** The `.crate` of a local version. */
export function crateFile(v: LocalVersionInfo): LocalFileInfo | undefined {
  return v.files.find((f) => f.filename.endsWith('.crate')) ?? v.files[0]
}

/**
 * The index template stored with a version. Versions published by other means (an admin upload)
 * without one get a minimal template so that cargo can still resolve them.
 */
export function templateOf(pkg: LocalPackageInfo, v: LocalVersionInfo): IndexTemplate {
  const stored = (v.metadata as Partial<CrateVersionMetadata> | undefined)?.index
  if (stored && typeof stored === 'object' && stored.vers === v.version) return stored as IndexTemplate
  return { name: pkg.name, vers: v.version, deps: [], features: {}, links: null }
}

/** Index lines of a local crate, oldest first as index files list them. Yanked versions stay, flagged. */
export function localIndexLines(pkg: LocalPackageInfo): IndexLine[] {
  const lines: IndexLine[] = []
  for (const v of [...pkg.versions].reverse()) {
    const file = crateFile(v)
    if (!file) continue
    lines.push(renderIndexLine(templateOf(pkg, v), { cksum: file.sha256, yanked: v.yanked, publishedAt: v.publishedAt }))
  }
  return lines
}

/** A local crate and whether it exists at all (hidden packages exist but are not returned). */
export interface LocalLookup {
  readonly exists: boolean
  readonly pkg: LocalPackageInfo | null
}
/** Caller identity for visibility-aware reads. */
export type Viewer = Identity | undefined
