/**
 * Version filtering by the kernel's policy engine (blocklist, release age gate): project pages
 * leave out the files of releases the caller may not download, so that pip and uv resolve to an
 * allowed release instead of failing on the download. A page nothing applies to is served as it
 * is (the cache's memoised bytes); a filtered page is rendered once per policy outcome.
 *
 * A release's publish time is the earliest `upload-time` of its files (PEP 700), as on pypi.org.
 */
import type { Identity, RegistryContext, VersionSummary } from '@batlehub/sdk'
import { canonicalVersion, compareVersions, isPrerelease, parseDistributionFilename } from './names.ts'
import { renderProject, type SimpleFormat, type SimpleProject } from './simple.ts'

interface Summary {
  /** Newest first by PEP 440 ordering. */
  readonly versions: VersionSummary[]
  /** The release (version as in the file names) of each file. */
  readonly releaseOf: ReadonlyMap<string, string>
  readonly filtered: Map<string, SimpleProject>
}

const summaries = new WeakMap<SimpleProject, Summary>()
const pages = new WeakMap<SimpleProject, Map<SimpleFormat, string>>()

function summarize(project: SimpleProject): Summary {
  let s = summaries.get(project)
  if (s) return s
  const releases = new Map<string, { time?: string; yanked: boolean }>()
  const releaseOf = new Map<string, string>()
  for (const f of project.files) {
    const version = parseDistributionFilename(f.filename, project.name)?.version
    if (!version) continue
    releaseOf.set(f.filename, version)
    const r = releases.get(version) ?? { yanked: true }
    if (f.uploadTime && (!r.time || Date.parse(f.uploadTime) < Date.parse(r.time))) r.time = f.uploadTime
    r.yanked &&= f.yanked !== false
    releases.set(version, r)
  }
  const versions = [...releases.entries()]
    .sort(([a], [b]) => compareVersions(b, a))
    .map(([version, r]) => ({ version, ...(r.time ? { publishedAt: r.time } : {}), prerelease: isPrerelease(version), yanked: r.yanked }))
  s = { versions, releaseOf, filtered: new Map() }
  summaries.set(project, s)
  return s
}

/** The project page this caller may see: null when nothing is left out (serve the page as it is). */
export function filterProject(ctx: RegistryContext<any>, identity: Identity, name: string, project: SimpleProject): SimpleProject | null {
  if (!ctx.policy.mayFilter({ identity, name })) return null
  const s = summarize(project)
  const f = ctx.policy.filterVersions({ identity, name, versions: s.versions })
  if (!f.changed) return null
  let out = s.filtered.get(f.fingerprint)
  if (!out) {
    const denied = new Set(f.denied.map((d) => d.version))
    const deniedCanonical = new Set([...denied].map(canonicalVersion))
    out = {
      ...project,
      files: project.files.filter((file) => !denied.has(s.releaseOf.get(file.filename) ?? '')),
      ...(project.versions ? { versions: project.versions.filter((v) => !deniedCanonical.has(canonicalVersion(v))) } : {}),
    }
    s.filtered.set(f.fingerprint, out)
  }
  return out
}

/** A filtered page rendered in a form, memoised (URLs still under the placeholder). */
export function renderFiltered(project: SimpleProject, format: SimpleFormat): string {
  let byFormat = pages.get(project)
  if (!byFormat) pages.set(project, (byFormat = new Map()))
  let body = byFormat.get(format)
  if (body === undefined) {
    body = renderProject(project, format)
    byFormat.set(format, body)
  }
  return body
}
