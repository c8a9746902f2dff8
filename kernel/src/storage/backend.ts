/**
 * The low-level storage backend contract (kernel-internal). Plugins never see it: they get a
 * {@link BlobStorageService} from `Cas.scoped()`.
 *
 * Writes are two-phase so that hashing, size limits and dedup can happen while streaming and
 * nothing half-written is ever visible:
 *
 * ```ts
 * const pending = await backend.beginWrite()
 * try {
 *   await pending.write(source)          // streams into a private temporary location
 *   await pending.publish('blob/ab12…')  // atomically visible at the key (replaces any object there)
 * } finally {
 *   await pending.discard()              // drops the temporary copy; never touches published keys
 * }
 * ```
 *
 * `publish` keeps the temporary copy until `discard`, so the same bytes can be published again
 * (the CAS re-publishes a blob when a concurrent delete removed it between its dedup check and
 * its database transaction). A failed or aborted `write` cleans up after itself before rejecting.
 */
import type { Readable } from 'node:stream'
import type { LoggerService } from '@batlehub/sdk'

/** Inclusive byte range; `end` defaults to the last byte. */
export interface ByteRange {
  start: number
  end?: number
}

/** A write in progress. See the module comment for the protocol. */
export interface PendingWrite {
  /**
   * Consumes `source` into the temporary location and resolves with the number of bytes written.
   * Call once. When `source` throws (a client disconnect, a size limit, an abort) the temporary
   * data is removed (an S3 multipart upload is aborted) before the promise rejects with that error.
   */
  write(source: AsyncIterable<Uint8Array>): Promise<number>
  /** Bytes written so far. */
  readonly size: number
  /** Makes the written bytes visible at `key`, atomically replacing any object there. Repeatable. */
  publish(key: string): Promise<void>
  /** Removes the temporary copy. Idempotent; published objects stay. */
  discard(): Promise<void>
}

/** Low-level object storage. Keys are validated with `validateKey`; `.tmp/` is reserved. */
export interface StorageBackend {
  readonly name: string
  readonly kind: 'filesystem' | 's3'
  /** Starts a write; nothing is visible until `publish()`. */
  beginWrite(): Promise<PendingWrite>
  /**
   * A stream of the object, or of an inclusive byte range of it (clamped to the object), and the
   * size of the whole object; null when absent. The caller must consume or destroy the stream.
   */
  read(key: string, range?: ByteRange): Promise<{ body: Readable; size: number } | null>
  stat(key: string): Promise<{ size: number; mtime?: Date } | null>
  exists(key: string): Promise<boolean>
  /** Removes the object; absent objects are fine. */
  delete(key: string): Promise<void>
  /** Objects whose key starts with `prefix` (temporary data excluded), in no particular order. */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>
  /**
   * Publishes a complete local file at `key` without a second copy where the backend can (the
   * filesystem backend hard-links it into place; the file stays). Optional: without it the file
   * is streamed through `beginWrite()`.
   */
  publishFile?(path: string, key: string): Promise<void>
  /** Health probe: writes, reads back and deletes a tiny object. Throws with the cause. */
  check(): Promise<void>
  close(): Promise<void>
}

/** Options shared by the backends. */
export interface BackendOptions {
  log?: LoggerService
  /** Temporary data older than this is swept when the backend starts; default one hour. */
  staleTempMs?: number
}

/** The reserved top-level folder for temporary data, on every backend. */
export const TEMP_DIR = '.tmp'

/** Clamps an inclusive range to an object of `size` bytes; null when nothing of it is inside. */
export function clampRange(range: ByteRange | undefined, size: number): { start: number; end: number } | null {
  if (!range) return size === 0 ? null : { start: 0, end: size - 1 }
  const end = Math.min(range.end ?? size - 1, size - 1)
  if (range.start > end) return null
  return { start: range.start, end }
}

/** A logger that drops everything, for backends built without one. */
export const silentLog: LoggerService = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLog
  },
}

/** The message of anything thrown, for logs and health reports. */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  let message = err.message
  // Node reports a refused connection to a dual-stack host as an AggregateError with no message.
  if (!message && err instanceof AggregateError) message = err.errors.map(messageOf).join('; ')
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && !message.includes(code)) message = message ? `${code}: ${message}` : code
  return message || err.name
}
