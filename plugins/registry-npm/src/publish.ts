/**
 * The body of `npm publish` (PUT /{name}), and of the packument updates npm sends for
 * `npm deprecate` and `npm unpublish <name>@<version>` (PUT /{name} or /{name}/-rev/{rev} with the
 * whole packument and no attachments).
 *
 * libnpmpublish sends:
 *   { _id, name, description, 'dist-tags': { [tag]: version }, versions: { [version]: manifest },
 *     access, _attachments: { '{name}-{version}.tgz': { content_type, data: base64, length } } }
 * where `manifest.dist` carries the `integrity` (sha512 SRI) and `shasum` (sha1 hex) of the tarball.
 */
import { createHash } from 'node:crypto'
import { IntegrityError, InputError, type ArchiveService } from '@batlehub/sdk'
import { isTagName, isVersionString, newNameProblems, tarballFile, type PackageName } from './names.ts'
import { inspectTarball, type TarballLimits } from './tarball.ts'

type Json = Record<string, any>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A publish, checked: the tarball is real, its digests and manifest match the body. */
export interface ParsedPublish {
  readonly name: string
  readonly version: string
  /** The dist-tag the client asked for (`latest` unless `--tag`). */
  readonly tag: string
  /** The version manifest from the body, with `dist.fileCount`/`dist.unpackedSize` added. */
  readonly manifest: Json
  readonly tarball: Buffer
  /** `{bare}-{version}.tgz`. */
  readonly filename: string
  /** sha512 SRI of the tarball. */
  readonly integrity: string
  /** Hex sha1 of the tarball. */
  readonly shasum: string
  readonly description?: string
}

/** Whether a PUT /{name} body carries a tarball (a publish) rather than a packument update. */
export function isPublishBody(body: unknown): boolean {
  return isObject(body) && isObject(body._attachments) && Object.keys(body._attachments).length > 0
}

/** Splits `sha512-…` SRI values and returns the first digest of `algorithm`. */
export function sriDigest(integrity: unknown, algorithm: 'sha512' | 'sha256' | 'sha1'): string | undefined {
  if (typeof integrity !== 'string') return undefined
  for (const part of integrity.trim().split(/\s+/)) {
    const m = /^([a-z0-9]+)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(part)
    if (m && m[1] === algorithm) return m[2]
  }
  return undefined
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/

/**
 * Checks a publish body against the URL's package name and returns what to store. Throws
 * `InputError` (400) for a malformed body, a name or version that does not match, an invalid new
 * name, or a corrupt tarball, and `IntegrityError` (400) when the tarball does not match its
 * declared `dist.integrity` or `dist.shasum`.
 */
export async function parsePublish(body: unknown, url: PackageName, archives: ArchiveService, limits: TarballLimits): Promise<ParsedPublish> {
  if (!isObject(body)) throw new InputError('the publish body must be a JSON object')
  const name = body.name ?? body._id
  if (typeof name !== 'string') throw new InputError('the publish body has no package name')
  if (name !== url.name) throw new InputError(`the package name in the body (${JSON.stringify(name)}) does not match the URL (${JSON.stringify(url.name)})`)
  const problems = newNameProblems(name)
  if (problems.length) throw new InputError(`Invalid package name ${JSON.stringify(name)}: ${problems.join('; ')}`)
  if (typeof body._id === 'string' && body._id !== name) throw new InputError(`_id ${JSON.stringify(body._id)} does not match the package name ${JSON.stringify(name)}`)

  if (!isObject(body.versions)) throw new InputError('the publish body has no versions')
  const versions = Object.keys(body.versions)
  if (versions.length !== 1) throw new InputError(`a publish must carry exactly one version (got ${versions.length})`)
  const version = versions[0]!
  if (!isVersionString(version)) throw new InputError(`invalid version: ${JSON.stringify(version)}`)
  const manifest = body.versions[version]
  if (!isObject(manifest)) throw new InputError(`version ${version} is not an object`)
  if (manifest.name !== name) throw new InputError(`the manifest of ${version} names ${JSON.stringify(manifest.name)}, not ${JSON.stringify(name)}`)
  if (manifest.version !== version) throw new InputError(`the manifest under ${JSON.stringify(version)} says version ${JSON.stringify(manifest.version)}`)

  const tags = isObject(body['dist-tags']) ? body['dist-tags'] : {}
  const tagNames = Object.keys(tags)
  if (tagNames.length > 1) throw new InputError('a publish may set one dist-tag')
  const tag = tagNames[0] ?? 'latest'
  if (!isTagName(tag)) throw new InputError(`invalid dist-tag ${JSON.stringify(tag)}: tags must not look like versions`)
  if (tagNames.length === 1 && tags[tag] !== version) throw new InputError(`dist-tag ${tag} points at ${JSON.stringify(tags[tag])}, not at the published version ${version}`)

  const attachments = body._attachments
  if (!isObject(attachments) || Object.keys(attachments).length === 0) throw new InputError('the publish body has no tarball attachment')
  const keys = Object.keys(attachments)
  if (keys.length !== 1) throw new InputError(`a publish must carry exactly one attachment (got ${keys.length})`)
  const filename = tarballFile(url, version)
  const key = keys[0]!
  // libnpmpublish names the attachment after the full name (`@scope/name-1.0.0.tgz`); accept the bare form too.
  if (key !== `${name}-${version}.tgz` && key !== filename) {
    throw new InputError(`the attachment ${JSON.stringify(key)} does not match ${name}@${version}`)
  }
  const att = attachments[key]
  if (!isObject(att) || typeof att.data !== 'string' || att.data.length === 0) throw new InputError(`the attachment ${key} has no data`)
  if (!BASE64.test(att.data)) throw new InputError(`the attachment ${key} is not base64`)
  const tarball = Buffer.from(att.data, 'base64')
  if (tarball.length === 0) throw new InputError(`the attachment ${key} is empty`)
  if (att.length !== undefined && att.length !== tarball.length) {
    throw new InputError(`the attachment ${key} declares ${att.length} bytes but holds ${tarball.length}`)
  }

  const dist: Json = isObject(manifest.dist) ? manifest.dist : {}
  const sha512 = createHash('sha512').update(tarball).digest('base64')
  const shasum = createHash('sha1').update(tarball).digest('hex')
  const declared512 = sriDigest(dist.integrity, 'sha512')
  if (dist.integrity !== undefined && declared512 === undefined && typeof dist.integrity === 'string' && !sriDigest(dist.integrity, 'sha1')) {
    throw new InputError(`dist.integrity ${JSON.stringify(dist.integrity)} is not a sha512 or sha1 SRI value`)
  }
  if (declared512 === undefined && dist.shasum === undefined) throw new InputError(`version ${version} declares neither dist.integrity nor dist.shasum`)
  if (declared512 !== undefined && declared512 !== sha512) {
    throw new IntegrityError(`the tarball does not match dist.integrity: expected sha512-${declared512}, got sha512-${sha512}`)
  }
  const declared1 = sriDigest(dist.integrity, 'sha1')
  if (declared1 !== undefined && Buffer.from(declared1, 'base64').toString('hex') !== shasum) {
    throw new IntegrityError('the tarball does not match the sha1 in dist.integrity')
  }
  if (dist.shasum !== undefined && (typeof dist.shasum !== 'string' || dist.shasum.toLowerCase() !== shasum)) {
    throw new IntegrityError(`the tarball does not match dist.shasum: expected ${String(dist.shasum)}, got ${shasum}`)
  }

  const info = await inspectTarball(archives, tarball, limits)
  if (info.manifest.name !== name) {
    throw new InputError(`package.json in the tarball names ${JSON.stringify(info.manifest.name)}, not ${JSON.stringify(name)}`)
  }
  if (info.manifest.version !== version) {
    throw new InputError(`package.json in the tarball has version ${JSON.stringify(info.manifest.version)}, not ${JSON.stringify(version)}`)
  }

  const integrity = `sha512-${sha512}`
  const stored: Json = { ...manifest, dist: { ...dist, integrity, shasum, fileCount: info.fileCount, unpackedSize: info.unpackedSize } }
  // The tarball URL is the hub's, rendered at read time; the client's guess is not kept.
  delete stored.dist.tarball
  const description = typeof manifest.description === 'string' ? manifest.description : typeof body.description === 'string' ? body.description : undefined
  return { name, version, tag, manifest: stored, tarball, filename, integrity, shasum, ...(description ? { description } : {}) }
}

/** What a packument update (deprecate, partial unpublish, tag moves) asks for, compared with the store. */
export interface PackumentUpdate {
  /** Versions present locally but absent from the body: npm's partial unpublish. */
  readonly removeVersions: string[]
  /** Deprecation messages that changed ('' clears one). */
  readonly deprecate: Array<{ version: string; message: string }>
  /** Tags to set or move. */
  readonly setTags: Record<string, string>
  /** Tags to drop. */
  readonly removeTags: string[]
}

/**
 * Compares a whole-packument PUT (no attachments) with the local package and lists the changes.
 * New versions without a tarball are refused, as are tags pointing at unknown versions.
 */
export function diffPackument(body: unknown, url: PackageName, current: { versions: ReadonlyArray<{ version: string; deprecated?: string }>; tags: Readonly<Record<string, string>> }): PackumentUpdate {
  if (!isObject(body)) throw new InputError('the packument must be a JSON object')
  const name = body.name ?? body._id
  if (name !== undefined && name !== url.name) throw new InputError(`the package name in the body (${JSON.stringify(name)}) does not match the URL (${JSON.stringify(url.name)})`)
  if (!isObject(body.versions)) throw new InputError('the packument has no versions')
  const known = new Map(current.versions.map((v) => [v.version, v]))
  for (const v of Object.keys(body.versions)) {
    if (!known.has(v)) throw new InputError(`version ${v} of ${url.name} has no tarball: publish it with npm publish`)
  }
  const removeVersions = [...known.keys()].filter((v) => !Object.hasOwn(body.versions, v))
  const deprecate: Array<{ version: string; message: string }> = []
  for (const [v, manifest] of Object.entries(body.versions)) {
    if (!isObject(manifest)) throw new InputError(`version ${v} is not an object`)
    const wanted = typeof manifest.deprecated === 'string' ? manifest.deprecated : ''
    if (manifest.deprecated !== undefined && typeof manifest.deprecated !== 'string') throw new InputError(`deprecated of ${v} must be a string`)
    if (wanted !== (known.get(v)!.deprecated ?? '')) deprecate.push({ version: v, message: wanted })
  }
  const setTags: Record<string, string> = {}
  const removeTags: string[] = []
  if (body['dist-tags'] !== undefined) {
    if (!isObject(body['dist-tags'])) throw new InputError('dist-tags must be an object')
    const remaining = new Set(Object.keys(body.versions))
    for (const [tag, v] of Object.entries(body['dist-tags'])) {
      if (!isTagName(tag)) throw new InputError(`invalid dist-tag ${JSON.stringify(tag)}`)
      if (typeof v !== 'string' || !remaining.has(v)) throw new InputError(`dist-tag ${tag} points at ${JSON.stringify(v)}, which is not a version of ${url.name}`)
      if (current.tags[tag] !== v) setTags[tag] = v
    }
    for (const tag of Object.keys(current.tags)) {
      if (!Object.hasOwn(body['dist-tags'], tag) && !removeVersions.includes(current.tags[tag]!)) removeTags.push(tag)
    }
  }
  return { removeVersions, deprecate, setTags, removeTags }
}
