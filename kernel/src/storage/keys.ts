/**
 * Storage key rules.
 *
 * A key is a relative `/`-separated path whose segments only use `[A-Za-z0-9._~@+=,-]`. With no
 * `/` at either end, no empty, `.` or `..` segment, no backslash and no NUL, a key can never name
 * anything outside the directory (or bucket prefix) it is resolved under: traversal is impossible
 * by construction, before any path is built.
 */
import { InputError } from '@batlehub/sdk'

/** Longest key, in bytes (the `storage_refs.key` column holds 1024 characters). */
export const MAX_KEY_BYTES = 1024

const SEGMENT = /^[A-Za-z0-9._~@+=,-]+$/
const PREFIX = /^[A-Za-z0-9._~@+=,/-]*$/

/** Shows a rejected key in an error message without echoing control characters or megabytes. */
function show(key: unknown): string {
  const text = typeof key === 'string' ? key : String(key)
  const clipped = text.length > 80 ? `${text.slice(0, 80)}…` : text
  return JSON.stringify(clipped)
}

/** Returns the key when it follows the rules, else throws `InputError` naming it. */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InputError(`invalid storage key ${show(key)}: empty`)
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new InputError(`invalid storage key ${show(key)}: longer than ${MAX_KEY_BYTES} bytes`)
  }
  if (key.includes('\0')) throw new InputError(`invalid storage key ${show(key)}: contains NUL`)
  if (key.includes('\\')) throw new InputError(`invalid storage key ${show(key)}: contains a backslash`)
  if (key.startsWith('/')) throw new InputError(`invalid storage key ${show(key)}: must be relative`)
  for (const segment of key.split('/')) {
    if (segment === '') throw new InputError(`invalid storage key ${show(key)}: empty path segment`)
    if (segment === '.' || segment === '..') throw new InputError(`invalid storage key ${show(key)}: "${segment}" segment`)
    if (!SEGMENT.test(segment)) throw new InputError(`invalid storage key ${show(key)}: segments may only use [A-Za-z0-9._~@+=,-]`)
  }
  return key
}

/**
 * Returns a listing prefix when it is harmless: empty, or key characters and `/` whose complete
 * segments follow the key rules (the last segment may be partial, and the prefix may end with `/`).
 */
export function validatePrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new InputError(`invalid storage prefix ${show(prefix)}`)
  if (Buffer.byteLength(prefix) > MAX_KEY_BYTES) throw new InputError(`invalid storage prefix ${show(prefix)}: too long`)
  const complete = prefix.split('/').slice(0, -1)
  if (!PREFIX.test(prefix) || complete.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`invalid storage prefix ${show(prefix)}`)
  }
  return prefix
}

/** Whether a single name (a registry or backend name) is usable as one key segment. */
export function isKeySegment(name: string): boolean {
  return typeof name === 'string' && SEGMENT.test(name) && name !== '.' && name !== '..'
}
