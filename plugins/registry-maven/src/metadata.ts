/**
 * `maven-metadata.xml`: reading the upstream's, generating the hub's from its records, and merging
 * both in hybrid mode. Pure functions; most unit tests live here.
 *
 * Artifact level (`{g}/{a}/maven-metadata.xml`) lists the versions with `latest`, `release` and
 * `lastUpdated`; version level (`{g}/{a}/{v}-SNAPSHOT/maven-metadata.xml`) names the newest
 * timestamped build of a SNAPSHOT and the file of each classifier/extension.
 */
import { InputError } from '@batlehub/sdk'
import { child, children, esc, parseXmlDocument, text } from './xml.ts'
import { compareVersions, isSnapshot, sortVersions } from './version.ts'

/** Artifact-level metadata. `versions` ascending in Maven order. */
export interface ArtifactMetadata {
  readonly groupId: string
  readonly artifactId: string
  readonly versions: readonly string[]
  readonly latest?: string
  readonly release?: string
  /** `yyyyMMddHHmmss`, UTC. */
  readonly lastUpdated?: string
}

/** One file of the newest build of a SNAPSHOT, per classifier and extension. */
export interface SnapshotVersion {
  readonly classifier?: string
  readonly extension: string
  /** `1.0-20260101.120000-3` */
  readonly value: string
  /** `yyyyMMddHHmmss` */
  readonly updated: string
}

/** Version-level metadata of a SNAPSHOT. */
export interface SnapshotMetadata {
  readonly groupId: string
  readonly artifactId: string
  /** `1.0-SNAPSHOT` */
  readonly version: string
  readonly snapshot?: { readonly timestamp: string; readonly buildNumber: number }
  readonly lastUpdated?: string
  readonly snapshotVersions: readonly SnapshotVersion[]
}

/** A timestamped build file, as the hub records it. */
export interface SnapshotFile {
  readonly classifier?: string
  readonly extension: string
  /** `yyyyMMdd.HHmmss` */
  readonly timestamp: string
  readonly buildNumber: number
}

const LAST_UPDATED = /^\d{14}$/

/** `Date` → `yyyyMMddHHmmss` (UTC), the `lastUpdated` format. */
export function formatLastUpdated(at: Date | number | string): string {
  const d = new Date(at)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}

/** `yyyyMMddHHmmss` → ISO-8601, or undefined when malformed. */
export function lastUpdatedToIso(value: string | undefined): string | undefined {
  if (!value || !LAST_UPDATED.test(value)) return undefined
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(8, 10)}:${value.slice(10, 12)}:${value.slice(12, 14)}Z`
  return Number.isNaN(Date.parse(iso)) ? undefined : new Date(iso).toISOString()
}

/** `yyyyMMdd.HHmmss` → `yyyyMMddHHmmss`. */
export function snapshotTimestampToLastUpdated(timestamp: string): string {
  return timestamp.replace('.', '')
}

/** Parses the maven-metadata.xml of an artifact. */
export function parseArtifactMetadata(body: Buffer | string, what = 'maven-metadata.xml'): ArtifactMetadata {
  const root = parseXmlDocument(body, 'metadata', what)
  const versioning = child(root, 'versioning')
  const versions = children(child(versioning, 'versions'), 'version').filter((v): v is string => typeof v === 'string' && v !== '')
  const latest = text(versioning, 'latest') || undefined
  const release = text(versioning, 'release') || undefined
  const lastUpdated = text(versioning, 'lastUpdated') || undefined
  return {
    groupId: text(root, 'groupId') ?? '',
    artifactId: text(root, 'artifactId') ?? '',
    versions: [...new Set(versions)],
    ...(latest ? { latest } : {}),
    ...(release ? { release } : {}),
    ...(lastUpdated && LAST_UPDATED.test(lastUpdated) ? { lastUpdated } : {}),
  }
}

/** Parses the version-level maven-metadata.xml of a SNAPSHOT. */
export function parseSnapshotMetadata(body: Buffer | string, what = 'maven-metadata.xml'): SnapshotMetadata {
  const root = parseXmlDocument(body, 'metadata', what)
  const versioning = child(root, 'versioning')
  const snap = child(versioning, 'snapshot')
  const timestamp = text(snap, 'timestamp')
  const buildNumber = Number(text(snap, 'buildNumber'))
  const lastUpdated = text(versioning, 'lastUpdated')
  const snapshotVersions: SnapshotVersion[] = []
  for (const sv of children(child(versioning, 'snapshotVersions'), 'snapshotVersion')) {
    const extension = text(sv, 'extension')
    const value = text(sv, 'value')
    if (!extension || !value) continue
    const classifier = text(sv, 'classifier')
    snapshotVersions.push({ ...(classifier ? { classifier } : {}), extension, value, updated: text(sv, 'updated') ?? '' })
  }
  return {
    groupId: text(root, 'groupId') ?? '',
    artifactId: text(root, 'artifactId') ?? '',
    version: text(root, 'version') ?? '',
    ...(timestamp && Number.isInteger(buildNumber) ? { snapshot: { timestamp, buildNumber } } : {}),
    ...(lastUpdated && LAST_UPDATED.test(lastUpdated) ? { lastUpdated } : {}),
    snapshotVersions,
  }
}

/**
 * Metadata for versions the hub holds: sorted in Maven order, `latest` the highest version,
 * `release` the highest non-SNAPSHOT one, `lastUpdated` the newest publish time.
 */
export function buildArtifactMetadata(
  groupId: string,
  artifactId: string,
  versions: ReadonlyArray<{ version: string; publishedAt?: string }>,
): ArtifactMetadata {
  const sorted = sortVersions(new Set(versions.map((v) => v.version)))
  const times = versions.map((v) => (v.publishedAt ? Date.parse(v.publishedAt) : NaN)).filter((t) => !Number.isNaN(t))
  return withSummary({ groupId, artifactId, versions: sorted, ...(times.length ? { lastUpdated: formatLastUpdated(Math.max(...times)) } : {}) })
}

function withSummary(m: ArtifactMetadata): ArtifactMetadata {
  const latest = m.versions[m.versions.length - 1]
  const release = [...m.versions].reverse().find((v) => !isSnapshot(v))
  return {
    groupId: m.groupId,
    artifactId: m.artifactId,
    versions: m.versions,
    ...(latest ? { latest } : {}),
    ...(release ? { release } : {}),
    ...(m.lastUpdated ? { lastUpdated: m.lastUpdated } : {}),
  }
}

/**
 * Hybrid mode: the union of local and upstream versions, with `latest`, `release` and
 * `lastUpdated` recomputed over both (the upstream's own `latest`/`release` are not trusted across
 * the merge: a local 2.0 must win over an upstream 1.5).
 */
export function mergeArtifactMetadata(local: ArtifactMetadata, upstream: ArtifactMetadata): ArtifactMetadata {
  const versions = sortVersions(new Set([...local.versions, ...upstream.versions]))
  const stamps = [local.lastUpdated, upstream.lastUpdated].filter((s): s is string => !!s).sort()
  return withSummary({ groupId: local.groupId, artifactId: local.artifactId, versions, ...(stamps.length ? { lastUpdated: stamps[stamps.length - 1] } : {}) })
}

/** Restricts upstream metadata to well-formed versions and re-sorts them (it may list them in deploy order). */
export function normalizeArtifactMetadata(m: ArtifactMetadata): ArtifactMetadata {
  return {
    groupId: m.groupId,
    artifactId: m.artifactId,
    versions: sortVersions(m.versions),
    ...(m.latest ? { latest: m.latest } : {}),
    ...(m.release ? { release: m.release } : {}),
    ...(m.lastUpdated ? { lastUpdated: m.lastUpdated } : {}),
  }
}

/** Renders artifact-level metadata. */
export function renderArtifactMetadata(m: ArtifactMetadata): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<metadata>',
    `  <groupId>${esc(m.groupId)}</groupId>`,
    `  <artifactId>${esc(m.artifactId)}</artifactId>`,
    '  <versioning>',
  ]
  if (m.latest) lines.push(`    <latest>${esc(m.latest)}</latest>`)
  if (m.release) lines.push(`    <release>${esc(m.release)}</release>`)
  lines.push('    <versions>')
  for (const v of m.versions) lines.push(`      <version>${esc(v)}</version>`)
  lines.push('    </versions>')
  if (m.lastUpdated) lines.push(`    <lastUpdated>${m.lastUpdated}</lastUpdated>`)
  lines.push('  </versioning>', '</metadata>', '')
  return lines.join('\n')
}

/**
 * Version-level metadata of a SNAPSHOT from its recorded build files: the newest build overall, and
 * per classifier/extension the newest build that has that file.
 */
export function buildSnapshotMetadata(groupId: string, artifactId: string, version: string, files: readonly SnapshotFile[]): SnapshotMetadata {
  const base = version.slice(0, -'-SNAPSHOT'.length)
  const newer = (a: SnapshotFile, b: SnapshotFile) => a.buildNumber > b.buildNumber || (a.buildNumber === b.buildNumber && a.timestamp > b.timestamp)
  let top: SnapshotFile | undefined
  const perFile = new Map<string, SnapshotFile>()
  for (const f of files) {
    if (!top || newer(f, top)) top = f
    const key = `${f.classifier ?? ''}\u0000${f.extension}`
    const seen = perFile.get(key)
    if (!seen || newer(f, seen)) perFile.set(key, f)
  }
  const snapshotVersions = [...perFile.values()]
    .sort((a, b) => (a.classifier ?? '').localeCompare(b.classifier ?? '') || a.extension.localeCompare(b.extension))
    .map((f) => ({
      ...(f.classifier ? { classifier: f.classifier } : {}),
      extension: f.extension,
      value: `${base}-${f.timestamp}-${f.buildNumber}`,
      updated: snapshotTimestampToLastUpdated(f.timestamp),
    }))
  return {
    groupId,
    artifactId,
    version,
    ...(top ? { snapshot: { timestamp: top.timestamp, buildNumber: top.buildNumber }, lastUpdated: snapshotTimestampToLastUpdated(top.timestamp) } : {}),
    snapshotVersions,
  }
}

/** Renders version-level SNAPSHOT metadata (model 1.1.0, as Maven 3 writes it). */
export function renderSnapshotMetadata(m: SnapshotMetadata): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<metadata modelVersion="1.1.0">',
    `  <groupId>${esc(m.groupId)}</groupId>`,
    `  <artifactId>${esc(m.artifactId)}</artifactId>`,
    `  <version>${esc(m.version)}</version>`,
    '  <versioning>',
  ]
  if (m.snapshot) {
    lines.push('    <snapshot>', `      <timestamp>${m.snapshot.timestamp}</timestamp>`, `      <buildNumber>${m.snapshot.buildNumber}</buildNumber>`, '    </snapshot>')
  }
  if (m.lastUpdated) lines.push(`    <lastUpdated>${m.lastUpdated}</lastUpdated>`)
  lines.push('    <snapshotVersions>')
  for (const sv of m.snapshotVersions) {
    lines.push('      <snapshotVersion>')
    if (sv.classifier) lines.push(`        <classifier>${esc(sv.classifier)}</classifier>`)
    lines.push(`        <extension>${esc(sv.extension)}</extension>`, `        <value>${esc(sv.value)}</value>`, `        <updated>${sv.updated}</updated>`)
    lines.push('      </snapshotVersion>')
  }
  lines.push('    </snapshotVersions>', '  </versioning>', '</metadata>', '')
  return lines.join('\n')
}

/**
 * Checks a maven-metadata.xml a client uploads (`mvn deploy` sends its own after the files): it
 * must be well-formed and about the artifact of its path. The hub keeps generating metadata from
 * its records, so the upload is otherwise ignored.
 */
export function validateUploadedMetadata(body: Buffer, expect: { groupId?: string; artifactId?: string; version?: string }): void {
  const root = parseXmlDocument(body, 'metadata', 'uploaded maven-metadata.xml')
  const g = text(root, 'groupId')
  const a = text(root, 'artifactId')
  const v = text(root, 'version')
  if (expect.groupId !== undefined && g !== undefined && g !== expect.groupId) {
    throw new InputError(`uploaded maven-metadata.xml names groupId ${g}, but its path is for ${expect.groupId}`)
  }
  if (expect.artifactId !== undefined && a !== undefined && a !== expect.artifactId) {
    throw new InputError(`uploaded maven-metadata.xml names artifactId ${a}, but its path is for ${expect.artifactId}`)
  }
  if (expect.version !== undefined && v !== undefined && v !== expect.version) {
    throw new InputError(`uploaded maven-metadata.xml names version ${v}, but its path is for ${expect.version}`)
  }
}

/** Highest version by Maven order (undefined for none). */
export function highest(versions: Iterable<string>): string | undefined {
  let top: string | undefined
  for (const v of versions) if (top === undefined || compareVersions(v, top) > 0) top = v
  return top
}
