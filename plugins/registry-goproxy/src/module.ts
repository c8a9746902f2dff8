/**
 * Module paths and versions as the go command defines them (golang.org/x/mod/module): the
 * case-encoding of paths in proxy URLs, path and version validity, and the major-version suffix rule.
 */
import semver from 'semver'
import { InputError } from '@batlehub/sdk'

/**
 * Proxy URLs are case-insensitive-filesystem safe: every upper-case letter is written `!` + its
 * lower-case form (`github.com/Azure` → `github.com/!azure`).
 */
export function escapePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)
}

/** Reverses {@link escapePath}; an upper-case letter or a `!` not followed by a lower-case letter is invalid. */
export function unescapePath(escaped: string): string {
  let out = ''
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i]!
    if (c === '!') {
      const n = escaped[i + 1]
      if (!n || n < 'a' || n > 'z') throw new InputError(`invalid escaped module path ${JSON.stringify(escaped)}`)
      out += n.toUpperCase()
      i++
    } else if (c >= 'A' && c <= 'Z') {
      throw new InputError(`invalid escaped module path ${JSON.stringify(escaped)}: upper-case letters must be escaped`)
    } else {
      out += c
    }
  }
  return out
}

const ELEMENT = /^[A-Za-z0-9._~-]+$/

/** Checks a module path (module.CheckPath); throws InputError with the reason. */
export function checkModulePath(path: string): void {
  const bad = (why: string): never => {
    throw new InputError(`malformed module path ${JSON.stringify(path)}: ${why}`)
  }
  if (!path) bad('empty')
  if (path.length > 1024) bad('too long')
  if (path.startsWith('/') || path.endsWith('/')) bad('leading or trailing slash')
  const elems = path.split('/')
  for (const e of elems) {
    if (e === '') bad('empty path element')
    if (e === '.' || e === '..') bad(`invalid path element ${JSON.stringify(e)}`)
    if (!ELEMENT.test(e)) bad(`invalid char in path element ${JSON.stringify(e)}`)
    if (e.startsWith('.') || e.endsWith('.')) bad(`path element ${JSON.stringify(e)} starts or ends with a dot`)
  }
  const first = elems[0]!
  if (!/^[a-z0-9.-]+$/.test(first)) bad('the first path element must be a lower-case domain name')
  if (!first.includes('.')) bad('missing dot in first path element')
  if (first.startsWith('-')) bad('leading dash in first path element')
}

/** A canonical semantic version with the `v` prefix (`v1.2.3`, `v1.2.3-pre`, `v2.0.0+incompatible`). */
export function checkVersion(version: string): void {
  const m = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(\+incompatible)?$/.exec(version)
  if (!m || !semver.valid(m[1]!) || semver.clean(m[1]!) !== m[1]) {
    throw new InputError(`invalid version ${JSON.stringify(version)}: not a canonical semantic version (vMAJOR.MINOR.PATCH)`)
  }
}

/** The `/vN` major-version suffix of a path (N ≥ 2), or undefined. */
export function majorSuffix(path: string): number | undefined {
  const m = /\/v([2-9]|[1-9][0-9]+)$/.exec(path)
  return m ? Number(m[1]) : undefined
}

/**
 * The major-version rule: `example.com/m/v2` holds only v2.x.y; a path without suffix holds v0/v1,
 * or v2+ marked `+incompatible` (a module that predates modules and has no go.mod).
 */
export function checkPathMajor(path: string, version: string, hasGoMod: boolean): void {
  const major = semver.major(version.slice(1).replace(/\+incompatible$/, ''))
  const suffix = majorSuffix(path)
  const incompatible = version.endsWith('+incompatible')
  if (suffix !== undefined) {
    if (incompatible || major !== suffix) throw new InputError(`version ${version} does not match the major version suffix /v${suffix} of ${path}`)
    return
  }
  if (major >= 2 && !incompatible) throw new InputError(`version ${version} of ${path} needs a /v${major} module path suffix (or +incompatible without go.mod)`)
  if (incompatible && major < 2) throw new InputError(`+incompatible is only valid for major versions 2 and above (${version})`)
  if (incompatible && hasGoMod) throw new InputError(`${version} is +incompatible but the module has a go.mod file`)
}

/** Sort key order of the go command: semver precedence (build metadata such as +incompatible ignored). */
export function compareVersions(a: string, b: string): number {
  const strip = (v: string) => v.slice(1).replace(/\+incompatible$/, '')
  return semver.compare(strip(a), strip(b))
}

/** Whether a version is a pseudo-version (`v0.0.0-20191109021931-daa7c04131f5`). */
export function isPseudoVersion(version: string): boolean {
  return /-(?:0\.|\d+\.)?\d{14}-[0-9a-f]{12}(?:\+incompatible)?$/.test(version)
}

/** The version the go command picks for `@latest`: the highest release, else the highest pre-release. */
export function latestOf(versions: readonly string[]): string | undefined {
  const tagged = versions.filter((v) => !isPseudoVersion(v))
  const sorted = [...tagged].sort(compareVersions)
  const releases = sorted.filter((v) => !semver.prerelease(v.slice(1).replace(/\+incompatible$/, '')))
  return releases.at(-1) ?? sorted.at(-1)
}

/** The module path declared by a go.mod file, or undefined when it has no module directive. */
export function goModModulePath(gomod: string): string | undefined {
  for (const raw of gomod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim()
    const m = /^module\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+))\s*$/.exec(line)
    if (m) return m[1] ?? m[2] ?? m[3]
  }
  return undefined
}
