/**
 * Maven 2 repository layout: `{groupId as path}/{artifactId}/{version}/{artifactId}-{version}[-{classifier}].{ext}`,
 * checksum siblings (`.sha1`, `.md5`, `.sha256`, `.sha512`) and `maven-metadata.xml` at group,
 * artifact and (SNAPSHOT) version level.
 *
 * Every path a client sends goes through {@link parseRepositoryPath} before it names a storage key
 * or an upstream URL: segments are percent-decoded one by one and must consist of the characters
 * Maven coordinates use, so `..`, encoded slashes, backslashes and empty segments never get further.
 */
import { InputError } from '@batlehub/sdk'
import { TIMESTAMPED } from './version.ts'

/** Checksum algorithms of the Maven layout, by file suffix. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number]

/** Hex length of each checksum. */
export const CHECKSUM_HEX_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = { sha1: 40, md5: 32, sha256: 64, sha512: 128 }

export const METADATA_FILE = 'maven-metadata.xml'

/** The characters of groupId, artifactId, version, classifier and extension (Maven's own rule is looser; no real coordinate needs more). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.\-+~]*$/
const MAX_SEGMENT = 200
const MAX_SEGMENTS = 64

/** A file of one artifact version. */
export interface ArtifactPath {
  readonly kind: 'artifact'
  readonly groupId: string
  readonly artifactId: string
  /** The directory version: `1.0`, or `1.0-SNAPSHOT` for every build of a snapshot. */
  readonly version: string
  /** The version in the file name: equal to `version`, or a timestamped build `1.0-20260101.120000-1`. */
  readonly fileVersion: string
  readonly classifier?: string
  /** Extension after the version and classifier: `jar`, `pom`, `tar.gz`, `jar.asc`. */
  readonly extension: string
  /** The file name (without a checksum suffix). */
  readonly filename: string
  /** Timestamped SNAPSHOT build, when the file name carries one. */
  readonly build?: { readonly timestamp: string; readonly buildNumber: number }
  /** When the request is for a checksum of the file. */
  readonly checksum?: ChecksumAlgorithm
  /** Repository-relative path of the file (decoded, no leading slash, no checksum suffix). */
  readonly path: string
}

/** A `maven-metadata.xml` (or its checksum). Which level it is depends on what exists. */
export interface MetadataPath {
  readonly kind: 'metadata'
  /** Directory segments above the file. */
  readonly dir: readonly string[]
  readonly checksum?: ChecksumAlgorithm
  /** Repository-relative path of the metadata file (no checksum suffix). */
  readonly path: string
  /** The artifact-level reading: `{groupId path}/{artifactId}/maven-metadata.xml`. */
  readonly artifact?: { readonly groupId: string; readonly artifactId: string }
  /** The version-level reading (SNAPSHOT directories only). */
  readonly snapshot?: { readonly groupId: string; readonly artifactId: string; readonly version: string }
}

export type RepositoryPath = ArtifactPath | MetadataPath

function splitChecksum(filename: string): { base: string; checksum?: ChecksumAlgorithm } {
  for (const algo of CHECKSUM_ALGORITHMS) {
    const suffix = `.${algo}`
    if (filename.length > suffix.length && filename.endsWith(suffix)) return { base: filename.slice(0, -suffix.length), checksum: algo }
  }
  return { base: filename }
}

/** Decodes and checks the segments of a raw request path. Throws `InputError` (400). */
export function decodeSegments(raw: string): string[] {
  if (raw.includes('\\')) throw new InputError('backslashes are not allowed in repository paths')
  const trimmed = raw.replace(/^\/+/, '')
  if (trimmed === '') throw new InputError('empty repository path')
  const parts = trimmed.split('/')
  if (parts.length > MAX_SEGMENTS) throw new InputError('repository path has too many segments')
  return parts.map((part) => {
    let seg: string
    try {
      seg = decodeURIComponent(part)
    } catch {
      throw new InputError(`malformed percent-encoding in repository path segment ${JSON.stringify(part)}`)
    }
    if (seg === '') throw new InputError('empty segment in repository path')
    if (seg === '.' || seg === '..') throw new InputError('relative segments (. and ..) are not allowed in repository paths')
    if (seg.length > MAX_SEGMENT || !SEGMENT.test(seg)) {
      throw new InputError(`invalid repository path segment ${JSON.stringify(seg)}: use letters, digits and _ . - + ~`)
    }
    return seg
  })
}

/** Checks one coordinate part (groupId segment, artifactId, version, classifier). */
export function isValidCoordinatePart(value: string): boolean {
  return value.length > 0 && value.length <= MAX_SEGMENT && SEGMENT.test(value) && value !== '.' && value !== '..'
}

/** Whether a groupId is well formed (dot-separated segments). */
export function isValidGroupId(groupId: string): boolean {
  return groupId.split('.').every(isValidCoordinatePart)
}

/**
 * Parses a path below `/maven2/`. Throws `InputError` for traversal, bad characters and file names
 * that do not follow the layout (`{artifactId}-{version}[-{classifier}].{ext}` in
 * `{groupId}/{artifactId}/{version}/`).
 */
export function parseRepositoryPath(raw: string): RepositoryPath {
  const segs = decodeSegments(raw)
  const { base, checksum } = splitChecksum(segs[segs.length - 1]!)
  const dir = segs.slice(0, -1)
  if (base === METADATA_FILE) {
    if (dir.length === 0) throw new InputError('maven-metadata.xml needs a groupId or artifact directory')
    const path = [...dir, METADATA_FILE].join('/')
    const artifact = dir.length >= 2 ? { groupId: dir.slice(0, -1).join('.'), artifactId: dir[dir.length - 1]! } : undefined
    const last = dir[dir.length - 1]!
    const snapshot = dir.length >= 3 && last.endsWith('-SNAPSHOT')
      ? { groupId: dir.slice(0, -2).join('.'), artifactId: dir[dir.length - 2]!, version: last }
      : undefined
    return { kind: 'metadata', dir, path, ...(checksum ? { checksum } : {}), ...(artifact ? { artifact } : {}), ...(snapshot ? { snapshot } : {}) }
  }
  if (segs.length < 4) throw new InputError(`not a Maven 2 layout path: ${JSON.stringify(raw)} (expected {groupId}/{artifactId}/{version}/{file})`)
  const version = dir[dir.length - 1]!
  const artifactId = dir[dir.length - 2]!
  const groupId = dir.slice(0, -2).join('.')
  const file = parseFileName(base, artifactId, version)
  if (!file) {
    throw new InputError(`file name ${JSON.stringify(base)} does not match ${artifactId}-${version}[-classifier].extension`)
  }
  return {
    kind: 'artifact',
    groupId,
    artifactId,
    version,
    ...file,
    filename: base,
    ...(checksum ? { checksum } : {}),
    path: [...dir, base].join('/'),
  }
}

/** Splits `{artifactId}-{version}[-{classifier}].{ext}` given the directory's artifactId and version. */
export function parseFileName(
  filename: string,
  artifactId: string,
  version: string,
): { fileVersion: string; classifier?: string; extension: string; build?: { timestamp: string; buildNumber: number } } | null {
  const prefix = `${artifactId}-`
  if (!filename.startsWith(prefix)) return null
  const rest = filename.slice(prefix.length)
  const candidates: Array<{ fileVersion: string; build?: { timestamp: string; buildNumber: number } }> = []
  if (version.endsWith('-SNAPSHOT')) {
    // A snapshot directory holds timestamped builds of the base version (and, from old deployers, the literal -SNAPSHOT name).
    const baseVersion = version.slice(0, -'-SNAPSHOT'.length)
    const m = new RegExp(`^${escapeRegExp(baseVersion)}-(\\d{8}\\.\\d{6})-(\\d+)(?=[-.])`).exec(rest)
    if (m) candidates.push({ fileVersion: `${baseVersion}-${m[1]}-${m[2]}`, build: { timestamp: m[1]!, buildNumber: Number(m[2]) } })
  }
  candidates.push({ fileVersion: version })
  for (const c of candidates) {
    if (!rest.startsWith(c.fileVersion)) continue
    const tail = rest.slice(c.fileVersion.length)
    let classifier: string | undefined
    let extension: string
    if (tail.startsWith('.')) {
      extension = tail.slice(1)
    } else if (tail.startsWith('-')) {
      const dot = tail.indexOf('.')
      if (dot <= 1) continue
      classifier = tail.slice(1, dot)
      extension = tail.slice(dot + 1)
    } else {
      continue
    }
    if (!extension || extension.startsWith('.') || extension.endsWith('.') || extension.includes('..')) continue
    if (c.build && c.build.buildNumber < 1) continue
    return { fileVersion: c.fileVersion, ...(classifier ? { classifier } : {}), extension, ...(c.build ? { build: c.build } : {}) }
  }
  return null
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The package name the hub keeps for a Maven artifact: `groupId:artifactId`. */
export function packageName(groupId: string, artifactId: string): string {
  return `${groupId}:${artifactId}`
}

/** Splits `groupId:artifactId`; null when malformed. */
export function splitPackageName(name: string): { groupId: string; artifactId: string } | null {
  const parts = name.split(':')
  if (parts.length !== 2) return null
  const [groupId, artifactId] = parts as [string, string]
  if (!isValidGroupId(groupId) || !isValidCoordinatePart(artifactId)) return null
  return { groupId, artifactId }
}

/** Repository-relative directory of an artifact: `com/example/hello`. */
export function artifactDir(groupId: string, artifactId: string): string {
  return `${groupId.replace(/\./g, '/')}/${artifactId}`
}

/** The file name of a version's artifact. */
export function fileNameOf(artifactId: string, fileVersion: string, extension: string, classifier?: string): string {
  return `${artifactId}-${fileVersion}${classifier ? `-${classifier}` : ''}.${extension}`
}

/** `1.0-20260101.120000-1` → `{ base: '1.0', timestamp, buildNumber }`, else null. */
export function parseTimestamped(version: string): { base: string; timestamp: string; buildNumber: number } | null {
  const m = TIMESTAMPED.exec(version)
  return m ? { base: m[1]!, timestamp: m[2]!, buildNumber: Number(m[3]) } : null
}
