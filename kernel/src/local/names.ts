/**
 * Input rules of the local store (package names, versions, file names) and the storage keys of
 * local files.
 *
 * Storage keys are built by the kernel, never taken from the client: each part is escaped into the
 * CAS key charset, so no name, version or file name can add a path segment, climb out with `..`,
 * or reach another package's files. A random per-publish segment keeps the files of two racing
 * publishes of one version apart, so the loser can delete exactly what it stored.
 */
import { createHash, randomBytes } from 'node:crypto'
import { InputError } from '@batlehub/sdk'

/** Longest package name (the `local_packages.name` column). */
export const MAX_NAME = 512
/** Longest version (the `local_versions.version` column). */
export const MAX_VERSION = 255
/** Longest file name. */
export const MAX_FILENAME = 255

// C0, DEL and C1 controls: never part of a name any client prints.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}

/** A package name as a plugin hands it over: 1-512 characters, no control characters. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InputError('package name is empty')
  if (name.length > MAX_NAME) throw new InputError(`package name ${show(name)} is longer than ${MAX_NAME} characters`)
  if (CONTROL.test(name)) throw new InputError(`package name ${show(name)} contains control characters`)
  return name
}

/** A version: 1-255 characters, no whitespace, control characters, `/` or `\`. */
export function checkVersion(version: unknown): string {
  if (typeof version !== 'string' || version.length === 0) throw new InputError('version is empty')
  if (version.length > MAX_VERSION) throw new InputError(`version ${show(version)} is longer than ${MAX_VERSION} characters`)
  if (CONTROL.test(version) || /\s/.test(version)) throw new InputError(`version ${show(version)} contains whitespace or control characters`)
  if (/[/\\]/.test(version)) throw new InputError(`version ${show(version)} contains a slash`)
  return version
}

/**
 * A file name of a version: one path segment. `/`, `\`, NUL and other control characters, `..`
 * anywhere, and the names `.` are refused: whatever a protocol does with the name later (a
 * download URL, a Content-Disposition, an archive entry), it can never mean a path.
 */
export function checkFilename(filename: unknown): string {
  if (typeof filename !== 'string' || filename.length === 0) throw new InputError('file name is empty')
  if (filename.length > MAX_FILENAME) throw new InputError(`file name ${show(filename)} is longer than ${MAX_FILENAME} characters`)
  if (/[/\\]/.test(filename)) throw new InputError(`file name ${show(filename)} contains a path separator`)
  if (CONTROL.test(filename)) throw new InputError(`file name ${show(filename)} contains control characters`)
  if (filename === '.' || filename.includes('..')) throw new InputError(`file name ${show(filename)} contains ".."`)
  return filename
}

/** A tag (`latest`, `beta`): 1-255 characters, no whitespace or control characters. */
export function checkTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag.length === 0) throw new InputError('tag is empty')
  if (tag.length > 255 || CONTROL.test(tag) || /\s/.test(tag)) throw new InputError(`invalid tag ${show(tag)}`)
  return tag
}

const PLAIN = /[A-Za-z0-9_.-]/
/** Longest escaped segment kept readable; longer ones become a digest. */
const MAX_SEGMENT = 180

/**
 * Escapes any string into one CAS key segment: bytes outside `[A-Za-z0-9_.-]` (and a leading `.`)
 * become `~XX`. Injective, so two different inputs never share a segment; overlong results are
 * replaced by `~h` + sha256 (`h` is no hex digit, so a digest never equals an escaped name).
 */
export function keySegment(value: string): string {
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += byte < 0x80 && PLAIN.test(ch) && !(out === '' && ch === '.') ? ch : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  if (out === '') return '~'
  if (out.length > MAX_SEGMENT) return `~h${createHash('sha256').update(value).digest('hex')}`
  return out
}

/** A fresh per-publish segment. */
export function uploadId(): string {
  return randomBytes(8).toString('hex')
}

/**
 * The CAS key of a local file: `local/<registry>/<name>/<version>/<upload id>/<filename>`, each
 * part escaped. Outside `registries/<registry>/`, so a plugin's own `ctx.storage` can never
 * overwrite a published file.
 */
export function localFileKey(registry: string, normalizedName: string, version: string, upload: string, filename: string): string {
  return ['local', keySegment(registry), keySegment(normalizedName), keySegment(version), upload, keySegment(filename)].join('/')
}
