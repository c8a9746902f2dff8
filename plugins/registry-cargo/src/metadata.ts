/**
 * Pure transforms between cargo's formats: the publish metadata JSON, sparse index lines, the
 * download (`dl`) template, and crates.io's search and crate JSON.
 */
import { CARGO_ERRORS, CargoError } from './errors.ts'
import { assertCrateName, assertVersion, indexPrefix, isIndexableName, isPrerelease, versionKey } from './names.ts'

/** A dependency as written in an index line (registry-index.md). */
export interface IndexDep {
  name: string
  req: string
  features: string[]
  optional: boolean
  default_features: boolean
  target: string | null
  kind: 'normal' | 'dev' | 'build'
  registry: string | null
  package: string | null
}

/** One line of a sparse index file: one version of a crate. */
export interface IndexLine {
  name: string
  vers: string
  deps: IndexDep[]
  cksum: string
  features: Record<string, string[]>
  yanked: boolean
  links: string | null
  rust_version?: string
  /** Schema version: 2 when `features2` is present. */
  v?: number
  /** Features using `dep:` or `pkg?/feat` (cargo ≥ 1.60 merges them with `features`). */
  features2?: Record<string, string[]>
  /** Original publish time, `YYYY-MM-DDTHH:MM:SSZ` (crates.io writes it; cargo reads it). */
  pubtime?: string
}

/** An index line before the registry knows the checksum, yank state and publish time. */
export type IndexTemplate = Omit<IndexLine, 'cksum' | 'yanked' | 'pubtime'>

/** What a local version keeps besides its `.crate`: the index template and display fields. */
export interface CrateVersionMetadata {
  index: IndexTemplate
  description?: string
  license?: string
  repository?: string
  homepage?: string
  documentation?: string
  keywords?: string[]
  categories?: string[]
  authors?: string[]
}

/** The publish metadata after validation. */
export interface PublishMetadata {
  name: string
  vers: string
  template: IndexTemplate
  version: CrateVersionMetadata
}

const bad = (message: string): never => {
  throw new CargoError(CARGO_ERRORS.BAD_METADATA, message)
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
// Control characters have no business in any manifest string (and would garble cargo's output).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/

function optString(obj: Record<string, unknown>, key: string, max: number, where: string): string | null {
  const v = obj[key]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') return bad(`${where}${key} must be a string or null`)
  if (v.length > max) return bad(`${where}${key} is longer than ${max} characters`)
  if (CONTROL.test(v) && key !== 'description') return bad(`${where}${key} contains control characters`)
  return v
}

function stringArray(obj: Record<string, unknown>, key: string, maxItems: number, maxLength: number, where: string): string[] {
  const v = obj[key]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) return bad(`${where}${key} must be an array of strings`)
  if (v.length > maxItems) return bad(`${where}${key} has more than ${maxItems} entries`)
  for (const s of v) {
    if (typeof s !== 'string') return bad(`${where}${key} must be an array of strings`)
    if (s.length > maxLength || CONTROL.test(s)) return bad(`${where}${key} has an invalid entry ${JSON.stringify(s.slice(0, 80))}`)
  }
  return v as string[]
}

function optBool(obj: Record<string, unknown>, key: string, fallback: boolean, where: string): boolean {
  const v = obj[key]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') return bad(`${where}${key} must be a boolean`)
  return v
}

// A version requirement: comparators, wildcards, commas and spaces (cargo parses it further).
const VERSION_REQ = /^[0-9A-Za-z.*^~<>=,+ -]+$/
const FEATURE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_+.-]*$/
// Feature values: `feat`, `dep:name`, `name/feat`, `name?/feat`.
const FEATURE_VALUE = /^(dep:)?[A-Za-z0-9_][A-Za-z0-9_+.-]*(\??\/[A-Za-z0-9_][A-Za-z0-9_+.-]*)?$/
const RUST_VERSION = /^\d+(\.\d+){0,2}$/
const REGISTRY_URL = /^(sparse\+)?(https?|file|ssh|git)(\+[a-z]+)?:\/\/[^\s]+$/

function parseDeps(value: unknown): IndexDep[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return bad('deps must be an array')
  if (value.length > 2000) return bad('deps has more than 2000 entries')
  return value.map((d, i): IndexDep => {
    const where = `deps[${i}].`
    if (!isObject(d)) return bad(`deps[${i}] must be an object`)
    const name = d.name
    if (!isIndexableName(name)) return bad(`${where}name ${JSON.stringify(name)} is not a valid crate name`)
    const req = d.version_req
    if (typeof req !== 'string' || req.trim() === '' || req.length > 512 || !VERSION_REQ.test(req)) {
      return bad(`${where}version_req ${JSON.stringify(req)} is not a valid version requirement`)
    }
    const features = stringArray(d, 'features', 1000, 256, where)
    for (const f of features) if (!FEATURE_VALUE.test(f)) bad(`${where}features has an invalid feature ${JSON.stringify(f)}`)
    const kind = d.kind === undefined || d.kind === null ? 'normal' : d.kind
    if (kind !== 'normal' && kind !== 'dev' && kind !== 'build') return bad(`${where}kind must be "normal", "dev" or "build"`)
    const target = optString(d, 'target', 512, where)
    const registry = optString(d, 'registry', 2048, where)
    if (registry !== null && !REGISTRY_URL.test(registry)) bad(`${where}registry ${JSON.stringify(registry)} is not an index URL`)
    const rename = optString(d, 'explicit_name_in_toml', 128, where)
    if (rename !== null && !isIndexableName(rename)) bad(`${where}explicit_name_in_toml ${JSON.stringify(rename)} is not a valid crate name`)
    // The publish API names the package and keeps the alias apart; the index names the alias and
    // keeps the package in `package` (registry-index.md, "differences from the Publish API").
    return {
      name: rename ?? name,
      req,
      features,
      optional: optBool(d, 'optional', false, where),
      default_features: optBool(d, 'default_features', true, where),
      target,
      kind,
      registry,
      package: rename !== null ? name : null,
    }
  })
}

function parseFeatures(value: unknown): Record<string, string[]> {
  if (value === undefined || value === null) return {}
  if (!isObject(value)) return bad('features must be an object of string arrays')
  const keys = Object.keys(value)
  if (keys.length > 1000) return bad('features has more than 1000 entries')
  const out: Record<string, string[]> = {}
  for (const k of keys.sort()) {
    if (!FEATURE_NAME.test(k) || k.length > 256) bad(`invalid feature name ${JSON.stringify(k.slice(0, 80))}`)
    const list = stringArray(value, k, 1000, 256, 'features.')
    for (const f of list) if (!FEATURE_VALUE.test(f)) bad(`feature ${k} has an invalid value ${JSON.stringify(f)}`)
    out[k] = list
  }
  return out
}

/**
 * Splits features the way crates.io does: a feature whose values use `dep:` or `pkg?/feat` goes
 * to `features2` (and the line gets `v: 2`), so that cargo older than 1.19 can still read the
 * line; every other feature stays in `features`.
 */
export function splitFeatures(features: Record<string, string[]>): { features: Record<string, string[]>; features2?: Record<string, string[]> } {
  const plain: Record<string, string[]> = {}
  const extended: Record<string, string[]> = {}
  for (const [k, list] of Object.entries(features)) {
    if (list.some((v) => v.startsWith('dep:') || v.includes('?/'))) extended[k] = list
    else plain[k] = list
  }
  return Object.keys(extended).length ? { features: plain, features2: extended } : { features: plain }
}

/**
 * Validates the JSON part of a `cargo publish` frame and derives the index template
 * (registry-web-api.md "Publish"). Unknown fields are ignored, missing ones read as null, as the
 * web API asks of servers.
 */
export function parsePublishMetadata(json: unknown): PublishMetadata {
  if (!isObject(json)) return bad('the publish metadata must be a JSON object')
  const name = json.name
  assertCrateName(name)
  const vers = json.vers
  assertVersion(vers)
  const deps = parseDeps(json.deps)
  const { features, features2 } = splitFeatures(parseFeatures(json.features))
  const links = optString(json, 'links', 256, '')
  const rustVersion = optString(json, 'rust_version', 32, '')
  if (rustVersion !== null && !RUST_VERSION.test(rustVersion)) bad(`rust_version ${JSON.stringify(rustVersion)} is not a Rust version`)
  // Dependency names a feature refers to with `dep:` must exist; crates.io checks the same.
  const depNames = new Set(deps.map((d) => d.name))
  for (const list of Object.values(features2 ?? {})) {
    for (const f of list) if (f.startsWith('dep:') && !depNames.has(f.slice(4))) bad(`feature value ${JSON.stringify(f)} names no dependency`)
  }
  const template: IndexTemplate = {
    name,
    vers,
    deps,
    features,
    links,
    ...(rustVersion !== null ? { rust_version: rustVersion } : {}),
    ...(features2 ? { v: 2, features2 } : {}),
  }
  const version: CrateVersionMetadata = { index: template }
  for (const key of ['description', 'license', 'repository', 'homepage', 'documentation'] as const) {
    const v = optString(json, key, key === 'description' ? 4096 : 1024, '')
    if (v !== null) version[key] = v
  }
  for (const key of ['keywords', 'categories', 'authors'] as const) {
    const v = stringArray(json, key, 100, 256, '')
    if (v.length) version[key] = v
  }
  return { name, vers, template, version }
}

/** ISO time as cargo's `pubtime`: UTC, whole seconds, exactly 20 characters. */
export function toPubtime(iso: string | number | Date): string | undefined {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return undefined
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** An index line from a stored template plus what the registry knows. */
export function renderIndexLine(template: IndexTemplate, state: { cksum: string; yanked: boolean; publishedAt?: string }): IndexLine {
  const line: IndexLine = {
    name: template.name,
    vers: template.vers,
    deps: template.deps,
    cksum: state.cksum,
    features: template.features,
    yanked: state.yanked,
    links: template.links ?? null,
  }
  if (template.rust_version) line.rust_version = template.rust_version
  if (template.features2) {
    line.v = 2
    line.features2 = template.features2
  }
  const pubtime = state.publishedAt ? toPubtime(state.publishedAt) : undefined
  if (pubtime) line.pubtime = pubtime
  return line
}

/** One index file: lines in publish order, each ending with a newline. */
export function formatIndexFile(lines: readonly IndexLine[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('')
}

/** A parsed line of an upstream index file, keeping its original text. */
export interface ParsedIndexLine {
  readonly line: IndexLine
  readonly raw: string
}

/**
 * Reads an index file. Lines that are not JSON objects with a name, a version and a checksum are
 * skipped, as cargo skips lines it cannot read.
 */
export function parseIndexFile(text: string): ParsedIndexLine[] {
  const out: ParsedIndexLine[] = []
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim()
    if (!trimmed) continue
    try {
      const v = JSON.parse(trimmed) as IndexLine
      if (isObject(v) && typeof v.name === 'string' && typeof v.vers === 'string' && typeof v.cksum === 'string') {
        out.push({ line: v, raw: trimmed })
      }
    } catch {
      // Not a line cargo could read either.
    }
  }
  return out
}

/**
 * Hybrid index file: local lines first, then (when merging is allowed) the upstream lines for
 * versions that do not exist locally. Build metadata is ignored when comparing, as cargo does.
 */
export function mergeIndexFiles(local: readonly IndexLine[], upstream: readonly ParsedIndexLine[]): string {
  const seen = new Set(local.map((l) => versionKey(l.vers)))
  let out = formatIndexFile(local)
  for (const u of upstream) if (!seen.has(versionKey(u.line.vers))) out += `${u.raw}\n`
  return out
}

/** The index line of one version, or undefined. */
export function findVersion<T extends { line: IndexLine }>(lines: readonly T[], version: string): T | undefined {
  const key = versionKey(version)
  return lines.find((l) => versionKey(l.line.vers) === key)
}

const DL_MARKERS = /\{(crate|version|prefix|lowerprefix|sha256-checksum)\}/

/**
 * Expands a cargo `dl` value for one crate version (registry-index.md "Index Configuration"):
 * markers are replaced; without any, `/{crate}/{version}/download` is appended.
 */
export function expandDownloadUrl(dl: string, name: string, version: string, cksum: string): string {
  if (!DL_MARKERS.test(dl)) return `${dl.replace(/\/+$/, '')}/${name}/${version}/download`
  return dl
    .replaceAll('{crate}', name)
    .replaceAll('{version}', version)
    .replaceAll('{prefix}', indexPrefix(name, false))
    .replaceAll('{lowerprefix}', indexPrefix(name, true))
    .replaceAll('{sha256-checksum}', cksum)
}

/** `yanked`/prerelease summary of a line, as the kernel lists versions. */
export function summarizeLine(line: IndexLine, publishedAt?: string): { version: string; publishedAt?: string; prerelease: boolean; yanked: boolean } {
  return { version: line.vers, ...(publishedAt ? { publishedAt } : {}), prerelease: isPrerelease(line.vers), yanked: line.yanked === true }
}
