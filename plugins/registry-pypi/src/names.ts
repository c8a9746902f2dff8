/**
 * Project names (PEP 503, PEP 508), versions (PEP 440) and distribution file names (PEP 427 wheels,
 * PEP 625 sdists): pure functions, no I/O.
 */

/** PEP 508: a project name starts and ends with a letter or digit; `.`, `_` and `-` may sit inside. */
const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i

/** Longest project name accepted (PyPI has no documented limit; this bounds keys and logs). */
export const MAX_NAME_LENGTH = 200

/** PEP 503: clients and indexes compare names with runs of `-_.` folded to `-`, lower-cased. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase()
}

/** Whether `name` is a valid PEP 508 project name. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_RE.test(name)
}

// ---------------------------------------------------------------------------------------------
// PEP 440 versions
// ---------------------------------------------------------------------------------------------

// The regular expression of PEP 440 Appendix B (as in `packaging.version.VERSION_PATTERN`).
const VERSION_RE = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
)

/** A parsed PEP 440 version. */
export interface Pep440Version {
  readonly epoch: number
  readonly release: readonly number[]
  /** `a`, `b` or `rc` with its number. */
  readonly pre?: readonly [string, number]
  readonly post?: number
  readonly dev?: number
  /** Lower-cased, `.`-separated. */
  readonly local?: string
}

/** Parses a PEP 440 version; null when it is not one. */
export function parseVersion(text: string): Pep440Version | null {
  if (text.length > 128) return null
  const m = VERSION_RE.exec(text)
  if (!m?.groups) return null
  const g = m.groups
  const num = (s: string | undefined) => (s === undefined ? 0 : Number(s))
  let pre: [string, number] | undefined
  if (g.pre_l) {
    const l = g.pre_l.toLowerCase()
    pre = [l === 'alpha' ? 'a' : l === 'beta' ? 'b' : l === 'a' || l === 'b' ? l : 'rc', num(g.pre_n)]
  }
  const post = g.post_n1 !== undefined ? Number(g.post_n1) : g.post_l ? num(g.post_n2) : undefined
  const dev = g.dev_l ? num(g.dev_n) : undefined
  const release = g.release!.split('.').map(Number)
  if (release.some((n) => !Number.isSafeInteger(n))) return null
  return {
    epoch: num(g.epoch),
    release,
    ...(pre ? { pre } : {}),
    ...(post !== undefined ? { post } : {}),
    ...(dev !== undefined ? { dev } : {}),
    ...(g.local ? { local: g.local.toLowerCase().replace(/[-_]/g, '.') } : {}),
  }
}

/** The normalised string of a version (`1.0.0-RC1` → `1.0.0rc1`), as `str(packaging.version.Version)`. */
export function formatVersion(v: Pep440Version): string {
  let s = v.epoch ? `${v.epoch}!` : ''
  s += v.release.join('.')
  if (v.pre) s += `${v.pre[0]}${v.pre[1]}`
  if (v.post !== undefined) s += `.post${v.post}`
  if (v.dev !== undefined) s += `.dev${v.dev}`
  if (v.local) s += `+${v.local}`
  return s
}

/** Normalised version string, or null when `text` is not PEP 440. */
export function normalizeVersion(text: string): string | null {
  const v = parseVersion(text)
  return v ? formatVersion(v) : null
}

/**
 * The form versions are compared in: normalised with trailing `.0` release segments dropped, as
 * `packaging.utils.canonicalize_version` (PyPI treats `1.0` and `1.0.0` as one release).
 * Non-PEP 440 strings compare as themselves, lower-cased.
 */
export function canonicalVersion(text: string): string {
  const v = parseVersion(text)
  if (!v) return text.trim().toLowerCase()
  const release = [...v.release]
  while (release.length > 1 && release[release.length - 1] === 0) release.pop()
  return formatVersion({ ...v, release })
}

/** Whether the version is a pre-release (PEP 440: a pre or dev segment). */
export function isPrerelease(text: string): boolean {
  const v = parseVersion(text)
  return !!v && (v.pre !== undefined || v.dev !== undefined)
}

/** PEP 440 ordering; strings that are not versions sort before every version, by text. */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a)
  const vb = parseVersion(b)
  if (!va || !vb) return va ? 1 : vb ? -1 : a < b ? -1 : a > b ? 1 : 0
  const ka = sortKey(va)
  const kb = sortKey(vb)
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const x = ka[i] ?? 0
    const y = kb[i] ?? 0
    if (x !== y) return x < y ? -1 : 1
  }
  const la = va.local ?? ''
  const lb = vb.local ?? ''
  return compareLocal(la, lb)
}

// packaging's _cmpkey as a flat list of numbers: epoch, release (trailing zeros trimmed, padded),
// pre (a dev-only release sorts before its pre-releases; a final before any post), post, dev.
const RELEASE_WIDTH = 12
function sortKey(v: Pep440Version): number[] {
  const release = [...v.release]
  while (release.length > 1 && release[release.length - 1] === 0) release.pop()
  const padded = [...release.slice(0, RELEASE_WIDTH)]
  while (padded.length < RELEASE_WIDTH) padded.push(0)
  const preRank = (l: string) => (l === 'a' ? 0 : l === 'b' ? 1 : 2)
  let pre: [number, number]
  if (!v.pre && v.post === undefined && v.dev !== undefined) pre = [-Infinity, 0]
  else if (v.pre) pre = [preRank(v.pre[0]), v.pre[1]]
  else pre = [Infinity, 0]
  const post = v.post === undefined ? -Infinity : v.post
  const dev = v.dev === undefined ? Infinity : v.dev
  return [v.epoch, ...padded, ...pre, post, dev]
}

function compareLocal(a: string, b: string): number {
  if (a === b) return 0
  if (!a) return -1
  if (!b) return 1
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    const nx = /^\d+$/.test(x)
    const ny = /^\d+$/.test(y)
    // PEP 440: numeric segments sort after alphanumeric ones and compare as numbers.
    if (nx && ny) {
      if (Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1
    } else if (nx !== ny) return nx ? 1 : -1
    else if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

// ---------------------------------------------------------------------------------------------
// Distribution file names
// ---------------------------------------------------------------------------------------------

/** What a distribution file name says. */
export interface DistributionFile {
  readonly kind: 'wheel' | 'sdist'
  /** The name as written in the file name (`my_pkg`). */
  readonly name: string
  readonly version: string
  /** `bdist_wheel` or `sdist`: the twine `filetype` this file must come with. */
  readonly filetype: 'bdist_wheel' | 'sdist'
  /** Wheel tags; `source` for sdists (the twine `pyversion`). */
  readonly pyversion: string
  readonly buildTag?: string
  readonly abi?: string
  readonly platform?: string
}

/** Characters a distribution file name may contain: no separators, no control characters. */
const FILENAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/

/** Longest file name accepted (PyPI's own limit is 255). */
export const MAX_FILENAME_LENGTH = 255

/** Whether a file name is safe to use as a path segment and storage key (before parsing it). */
export function isSafeFilename(filename: string): boolean {
  return filename.length <= MAX_FILENAME_LENGTH && FILENAME_RE.test(filename) && !filename.includes('..')
}

/**
 * Parses a wheel (`{dist}-{version}(-{build})?-{py}-{abi}-{plat}.whl`, PEP 427) or sdist
 * (`{name}-{version}.tar.gz` / `.zip`) file name. For sdists whose name contains `-` (legacy
 * `python-dateutil-2.8.2.tar.gz`), `expectedName` picks the split; without it the last `-` that
 * leaves a valid version wins. Returns null for anything else (eggs, `.exe`, bad versions).
 */
export function parseDistributionFilename(filename: string, expectedName?: string): DistributionFile | null {
  if (!isSafeFilename(filename)) return null
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-')
    if (parts.length !== 5 && parts.length !== 6) return null
    const [name, version] = parts as [string, string]
    const build = parts.length === 6 ? parts[2] : undefined
    const [py, abi, plat] = parts.slice(-3) as [string, string, string]
    if (!isValidName(name) || !parseVersion(version)) return null
    // PEP 427: the build tag starts with a digit.
    if (build !== undefined && !/^\d\w*$/.test(build)) return null
    if (![py, abi, plat].every((t) => /^[A-Za-z0-9_.]+$/.test(t))) return null
    return { kind: 'wheel', name, version, filetype: 'bdist_wheel', pyversion: py, abi, platform: plat, ...(build ? { buildTag: build } : {}) }
  }
  const ext = filename.endsWith('.tar.gz') ? '.tar.gz' : filename.endsWith('.zip') ? '.zip' : null
  if (!ext) return null
  const stem = filename.slice(0, -ext.length)
  const want = expectedName === undefined ? undefined : normalizeName(expectedName)
  for (let i = stem.lastIndexOf('-'); i > 0; i = stem.lastIndexOf('-', i - 1)) {
    const name = stem.slice(0, i)
    const version = stem.slice(i + 1)
    if (!isValidName(name) || !parseVersion(version)) continue
    if (want !== undefined && normalizeName(name) !== want) continue
    return { kind: 'sdist', name, version, filetype: 'sdist', pyversion: 'source' }
  }
  return null
}
