/**
 * Crate names, versions and sparse index paths.
 */
import { CARGO_ERRORS, CargoError } from './errors.ts'

/** crates.io's longest crate name. */
export const MAX_NAME_LENGTH = 64

// crates.io: ASCII only, alphanumeric, `-` and `_`, first character alphabetic.
const CRATE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/
// Names in dependency lists come from other registries too; cargo itself allows a leading digit or `_`.
const DEP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/

// Windows device names (a crate directory named `nul` cannot exist there) and the sysroot crates,
// which a dependency could never resolve to.
const RESERVED = new Set([
  'con', 'prn', 'aux', 'nul', 'clock$',
  'com0', 'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9',
  'lpt0', 'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9',
  'std', 'core', 'alloc', 'proc_macro', 'proc-macro', 'test',
])

/** Why a crate name may not be published, or null when it may. */
export function crateNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'the crate name is empty'
  if (name.length > MAX_NAME_LENGTH) return `the crate name "${name.slice(0, 80)}" is longer than ${MAX_NAME_LENGTH} characters`
  if (!CRATE_NAME.test(name)) {
    return `invalid crate name "${name}": only ASCII letters, digits, "-" and "_" are allowed, and the first character must be a letter`
  }
  if (RESERVED.has(name.toLowerCase())) return `the crate name "${name}" is reserved`
  return null
}

/** Throws the cargo error for a name that may not be published. */
export function assertCrateName(name: unknown): asserts name is string {
  const problem = crateNameProblem(name)
  if (problem) throw new CargoError(CARGO_ERRORS.BAD_NAME, problem)
}

/** Whether a name may appear in an index path or a dependency list (looser than publishing). */
export function isIndexableName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH && DEP_NAME.test(name)
}

/**
 * The registry's key for a crate: lower-case. Index files are named by the lower-cased name
 * (registry-index.md), and crates.io refuses a second crate differing only in case.
 */
export function normalizeCrateName(name: string): string {
  return name.toLowerCase()
}

/**
 * crates.io's collision key: lower-case with `-` read as `_`. `foo-bar` and `foo_bar` are distinct
 * index files, but crates.io never lets both exist.
 */
export function canonicalCrateName(name: string): string {
  return name.toLowerCase().replace(/-/g, '_')
}

/**
 * The index directory of a crate (cargo's `{prefix}` marker): `1`, `2`, `3/{c}` or `{ab}/{cd}`.
 * `lower` gives `{lowerprefix}`.
 */
export function indexPrefix(name: string, lower = true): string {
  const n = lower ? name.toLowerCase() : name
  switch (n.length) {
    case 0: throw new Error('empty crate name')
    case 1: return '1'
    case 2: return '2'
    case 3: return `3/${n[0]}`
    default: return `${n.slice(0, 2)}/${n.slice(2, 4)}`
  }
}

/** Path of a crate's index file below the index root: `se/rd/serde`. */
export function indexPath(name: string): string {
  return `${indexPrefix(name)}/${name.toLowerCase()}`
}

/**
 * The crate a sparse index path names, or null when the path is not a well-formed index path
 * (wrong directory for the name, upper case, bad characters).
 */
export function crateFromIndexPath(segments: readonly string[]): string | null {
  const name = segments[segments.length - 1]
  if (!isIndexableName(name) || name !== name.toLowerCase()) return null
  const expected = indexPath(name).split('/')
  if (expected.length !== segments.length) return null
  for (let i = 0; i < expected.length; i++) if (expected[i] !== segments[i]) return null
  return name
}

// SemVer 2.0.0 (semver.org's recommended expression).
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

/** Whether a string is a SemVer 2.0 version, as cargo requires of every crate version. */
export function isSemver(version: unknown): version is string {
  return typeof version === 'string' && version.length <= 128 && SEMVER.test(version)
}

/** Throws the cargo error for a version that is not SemVer. */
export function assertVersion(version: unknown): asserts version is string {
  if (!isSemver(version)) {
    throw new CargoError(CARGO_ERRORS.BAD_VERSION, `invalid version ${JSON.stringify(typeof version === 'string' ? version.slice(0, 130) : version)}: crate versions must be SemVer 2.0`)
  }
}

/** Whether a SemVer version has a pre-release part (`1.0.0-beta.1`). */
export function isPrerelease(version: string): boolean {
  const plus = version.indexOf('+')
  return (plus === -1 ? version : version.slice(0, plus)).includes('-')
}

/** The version without build metadata: cargo treats `1.0.0+a` and `1.0.0` as one version. */
export function versionKey(version: string): string {
  const plus = version.indexOf('+')
  return plus === -1 ? version : version.slice(0, plus)
}
