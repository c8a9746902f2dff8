/**
 * npm package names: parsing the forms clients put in URLs, and the validation rules of
 * validate-npm-package-name.
 *
 * npm names are case-sensitive; new names must be lower-case, but the public registry still carries
 * legacy names with capitals (`JSONStream`) or punctuation, so reads accept legacy names and only
 * publishes enforce the rules for new ones.
 */

/** A parsed package name. */
export interface PackageName {
  /** `@scope/name` or `name`. */
  readonly name: string
  /** `scope` without the `@`, for scoped names. */
  readonly scope?: string
  /** The part after the scope (`name` of `@scope/name`): tarballs are called `{bare}-{version}.tgz`. */
  readonly bare: string
}

const SCOPED = /^@([^/]+)\/([^/]+)$/
// Names that can never be packages: they collide with the registry's own paths or with files
// every client writes.
const BLACKLIST = new Set(['node_modules', 'favicon.ico'])
/** Characters validate-npm-package-name refuses in new names (they were once allowed). */
const SPECIAL = /[~'!()*]/
// Node's built-in modules: validate-npm-package-name refuses them as new names.
const BUILTINS = new Set([
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'console', 'constants', 'crypto', 'dgram',
  'diagnostics_channel', 'dns', 'domain', 'events', 'fs', 'http', 'http2', 'https', 'inspector', 'module', 'net',
  'os', 'path', 'perf_hooks', 'process', 'punycode', 'querystring', 'readline', 'repl', 'stream',
  'string_decoder', 'sys', 'timers', 'tls', 'trace_events', 'tty', 'url', 'util', 'v8', 'vm', 'wasi',
  'worker_threads', 'zlib',
])

function urlSafe(part: string): boolean {
  return part.length > 0 && encodeURIComponent(part) === part
}

/**
 * Parses a name as a client sends it (router parameters are already percent-decoded, so
 * `@scope%2fname` and `%40scope%2fname` arrive as `@scope/name`). Returns null for anything that is
 * not a name a registry could hold: empty, with path separators or dot segments, not URL-safe.
 * Legacy capitals and punctuation are accepted.
 */
export function parseName(raw: string): PackageName | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 214 * 2) return null
  // `/-/…` is the registry's own namespace (`/-/whoami`, `/-/v1/search`).
  if (raw.trim() !== raw || raw === '-') return null
  const scoped = SCOPED.exec(raw)
  if (scoped) {
    const scope = scoped[1]!
    const bare = scoped[2]!
    if (!urlSafe(scope) || !urlSafe(bare)) return null
    if (bare.startsWith('.') || bare.startsWith('_') || scope.startsWith('.') || scope.startsWith('_')) return null
    return { name: raw, scope, bare }
  }
  if (raw.includes('/') || raw.startsWith('@')) return null
  if (!urlSafe(raw)) return null
  if (raw.startsWith('.') || raw.startsWith('_')) return null
  if (BLACKLIST.has(raw.toLowerCase())) return null
  return { name: raw, bare: raw }
}

/**
 * The problems with `name` as the name of a NEW package, worded like validate-npm-package-name
 * (npm prints them as they are). Empty when the name is valid.
 */
export function newNameProblems(name: unknown): string[] {
  if (typeof name !== 'string') return ['name must be a string']
  const problems: string[] = []
  if (name.length === 0) problems.push('name length must be greater than zero')
  if (name.startsWith('.')) problems.push('name cannot start with a period')
  if (name.startsWith('_')) problems.push('name cannot start with an underscore')
  if (name.trim() !== name) problems.push('name cannot contain leading or trailing spaces')
  if (BLACKLIST.has(name.toLowerCase())) problems.push(`${name} is not a valid package name`)
  if (BUILTINS.has(name.toLowerCase())) problems.push(`${name} is a core module name`)
  if (name.length > 214) problems.push('name can no longer contain more than 214 characters')
  if (name.toLowerCase() !== name) problems.push('name can no longer contain capital letters')
  const scoped = SCOPED.exec(name)
  const last = scoped ? scoped[2]! : name
  if (SPECIAL.test(last)) problems.push('name can no longer contain special characters ("~\'!()*")')
  if (scoped) {
    const [, scope, bare] = scoped
    if (!urlSafe(scope!) || !urlSafe(bare!)) problems.push('name can only contain URL-friendly characters')
    if (bare!.startsWith('.') || bare!.startsWith('_')) problems.push('name cannot start with a period or an underscore after the scope')
  } else if (name.length > 0) {
    if (name.startsWith('@')) problems.push('a scoped name must look like @scope/name')
    else if (!urlSafe(name)) problems.push('name can only contain URL-friendly characters')
  }
  return problems
}

/** Whether a string is a version npm could have published: semver-shaped, safe in a file name. */
export function isVersionString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 256 && /^v?[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(v) && !v.includes('..')
}

/** Whether a string can name a dist-tag: npm refuses tags that parse as a semver range. */
export function isTagName(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= 128 && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(tag) && !/^v?\d/.test(tag)
}

/** The tarball file name npm gives a version: `{bare}-{version}.tgz`. */
export function tarballFile(name: PackageName, version: string): string {
  return `${name.bare}-${version}.tgz`
}

/** The version a tarball file name stands for, or null when it is not `{bare}-{version}.tgz`. */
export function versionOfTarball(name: PackageName, file: string): string | null {
  const prefix = `${name.bare}-`
  if (!file.startsWith(prefix) || !file.endsWith('.tgz')) return null
  const version = file.slice(prefix.length, -'.tgz'.length)
  return isVersionString(version) ? version : null
}

/**
 * A storage-key segment for a name part. Storage keys allow `[A-Za-z0-9._~@+=,-]`; legacy names may
 * carry `!'()*`, which are written as `=XX` (hex), and `=` itself likewise, so the mapping is one-to-one.
 */
export function keySegment(part: string): string {
  return part.replace(/[^A-Za-z0-9._~@+,-]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** The storage key path of a package: `name` or `@scope/name`. */
export function keyPath(name: PackageName): string {
  return name.scope ? `@${keySegment(name.scope)}/${keySegment(name.bare)}` : keySegment(name.bare)
}

/** The URL path of a package below the registry mount, as the npm registry writes it (`@scope/name`). */
export function urlPath(name: PackageName): string {
  return name.scope ? `@${name.scope}/${name.bare}` : name.bare
}
