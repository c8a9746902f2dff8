/**
 * Content-addressed storage: logical keys mapped onto reference-counted blobs.
 *
 * Bytes live once per backend at `blob/{sha256}`; `storage_refs` maps each logical key to a blob
 * and `storage_blobs.refcount` counts the keys pointing at it. The database is the source of
 * truth, and this invariant holds at every commit:
 *
 *   a blob row with refcount > 0  ⇒  the blob object exists.
 *
 * - `put` streams the body into a pending write while hashing it, verifies the expected digests,
 *   publishes `blob/{sha256}` unless it is there already (dedup), then in one transaction points
 *   the key at the blob and adjusts refcounts. A blob that goes from 0 to 1 reference inside that
 *   transaction is checked again while its row is locked, and re-published from the still-kept
 *   temporary copy when a concurrent delete removed it meanwhile.
 * - A blob whose refcount reaches 0 keeps its row (refcount 0) until, after the commit, a
 *   collection step locks the row, deletes the object while holding the lock, and deletes the row.
 *   A crash in between leaves a refcount-0 row (harmless; `sweep()` collects it), never a row
 *   with references and no object.
 * - Locks are taken in one order, key row first, then blob rows by sha256, so puts and deletes
 *   cannot deadlock. SQLite serialises transactions; PostgreSQL relies on `SELECT … FOR UPDATE`
 *   and `INSERT … ON CONFLICT`. Transient conflicts are retried.
 */
import { randomInt } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as delay } from 'node:timers/promises'
import {
  IntegrityError, InputError,
  type BlobStorageService, type DigestAlgorithm, type LoggerService, type RegistryReply, type RegistryRequest, type StoredObject,
} from '@batlehub/sdk'
import type { Database } from '../db/orm.ts'
import { fromSqlTime, isTransient, isUniqueViolation, qualified, sqlTime } from '../db/sql.ts'
import { clampRange, messageOf, silentLog, type PendingWrite, type StorageBackend } from './backend.ts'
import { DIGEST_ALGORITHMS, DigestStream, parseExpectations } from './digests.ts'
import { ifRangeHolds, noneMatch, notModifiedSince, parseRange } from './conditional.ts'
import { isKeySegment, validateKey, validatePrefix } from './keys.ts'
import { Lru } from './lru.ts'
import { ByteLru } from '../util/byte-lru.ts'

export interface CasOptions {
  backend: StorageBackend
  db: Database
  /** Entries of the key → blob cache used by reads; default 10 000, 0 disables it. */
  cacheSize?: number
  /**
   * How long a cached key → blob mapping is trusted, in ms; default 10 s. Writes through this
   * instance invalidate their key at once; the TTL bounds staleness after writes by other replicas.
   */
  cacheTtlMs?: number
  /**
   * Memory for the bytes of small blobs served by `serve()`, in bytes; default 64 MiB, 0 disables it.
   * Blobs are immutable (their key is their sha256), so the copy never goes stale.
   */
  smallBlobCacheBytes?: number
  /** Largest blob kept in that memory; default 256 KiB (nearly every npm tarball, index file, POM). */
  smallBlobMaxBytes?: number
  log?: LoggerService
}

export type CasBody = Readable | Buffer | Uint8Array | string | AsyncIterable<Uint8Array>

export interface CasPutOptions {
  key: string
  body: CasBody
  contentType?: string
  /** Expected digests: hex, SRI (`sha512-<base64>`) or base64. A mismatch stores nothing. */
  expect?: Partial<Record<DigestAlgorithm, string>>
  /** Digests to compute besides sha256 and the expected ones. */
  digests?: readonly DigestAlgorithm[]
  /** `PayloadTooLargeError` as soon as the body passes this many bytes. */
  maxBytes?: number
  /** Aborting before the body ended stores nothing and rejects with the abort reason. */
  signal?: AbortSignal
}

export type Digests = Partial<Record<DigestAlgorithm, string>> & { sha256: string }

export interface CasPutResult extends StoredObject {
  /** Hex digests: sha256, the expected ones and those asked for with `digests`. */
  readonly digests: Digests
  /** Whether the blob was stored already (no bytes were written to `blob/`). */
  readonly deduplicated: boolean
}

export interface ServeOptions {
  key: string
  request: Pick<RegistryRequest, 'method' | 'headers'>
  contentType?: string
  headers?: Record<string, string>
}

interface Ref {
  sha256: string
  size: number
  contentType: string | null
  createdAt: Date
}

type Row = Record<string, unknown>
type Query = (sql: string, params?: unknown[]) => Promise<Row[]>

/** Thrown inside a transaction to run it again from the start. */
class Retry extends Error {}

const PAGE = 500
const CONTENT_TYPE = /^[\x21-\x7e]+(?:[ \t]*;[ \t]*[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)*$/

export function blobKey(sha256: string): string {
  return `blob/${sha256}`
}

function isRetryable(err: unknown): boolean {
  return err instanceof Retry || isTransient(err) || isUniqueViolation(err)
}

function toReadable(body: CasBody): Readable {
  if (body instanceof Readable) return body
  if (typeof body === 'string') return Readable.from([Buffer.from(body)])
  if (body instanceof Uint8Array) return Readable.from([body])
  if (body && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return Readable.from(body)
  throw new InputError('storage body must be a stream, a Buffer or a string')
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

export class Cas {
  readonly backend: StorageBackend
  readonly db: Database
  private readonly log: LoggerService
  private readonly cache: Lru<string, Ref>
  /**
   * Bytes of hot small blobs by sha256: a cached download then costs no file-system round trip
   * (open, stat, read and close each go through libuv's thread pool, which saturates first).
   */
  private readonly small: ByteLru<string, Buffer>
  private readonly smallMax: number
  /** Bumped by every invalidation, so that a read racing a write never caches the old mapping. */
  private generation = 0
  private readonly blobs: string
  private readonly refs: string
  private readonly forUpdate: string
  private readonly collate: string

  constructor(options: CasOptions) {
    this.backend = options.backend
    this.db = options.db
    this.log = options.log ?? silentLog
    this.cache = new Lru(options.cacheSize ?? 10_000, options.cacheTtlMs ?? 10_000)
    this.small = new ByteLru(options.smallBlobCacheBytes ?? 64 * 1024 * 1024, (b) => b.length)
    this.smallMax = options.smallBlobCacheBytes === 0 ? -1 : options.smallBlobMaxBytes ?? 256 * 1024
    const pg = this.db.dialect === 'postgresql'
    this.blobs = qualified(this.db, 'storage_blobs')
    this.refs = qualified(this.db, 'storage_refs')
    this.forUpdate = pg ? ' for update' : ''
    // Key order is byte order on both dialects, whatever the database collation.
    this.collate = pg ? ' collate "C"' : ''
  }

  private get name(): string {
    return this.backend.name
  }

  private now(): Date | number {
    return sqlTime(this.db, Date.now())
  }

  private async tx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.em().transactional(async (em) => fn((sql, params = []) => em.execute<Row[]>(sql, params as unknown[], 'all')))
      } catch (err) {
        if (attempt >= 8 || !isRetryable(err)) throw err
        await delay(attempt * 5 + randomInt(20))
      }
    }
  }

  private invalidate(key: string): void {
    this.generation++
    this.cache.delete(key)
  }

  private async lookup(key: string): Promise<Ref | null> {
    const rows = await this.db.execute(
      `select sha256, size, content_type, created_at from ${this.refs} where backend = ? and "key" = ?`, [this.name, key])
    const row = rows[0]
    if (!row) return null
    return { sha256: String(row.sha256), size: Number(row.size), contentType: (row.content_type as string | null) ?? null, createdAt: fromSqlTime(row.created_at) }
  }

  /** The key's blob, from the cache when fresh. */
  private async resolve(key: string): Promise<Ref | null> {
    const hit = this.cache.get(key)
    if (hit) return hit
    const generation = this.generation
    const ref = await this.lookup(key)
    if (ref && generation === this.generation) this.cache.set(key, ref)
    return ref
  }

  private stored(key: string, ref: Ref): StoredObject {
    return {
      key, size: ref.size, sha256: ref.sha256,
      ...(ref.contentType ? { contentType: ref.contentType } : {}),
      createdAt: ref.createdAt.toISOString(),
    }
  }

  /** Stores a body under a key; see the module comment. */
  async put(options: CasPutOptions): Promise<CasPutResult> {
    const body = toReadable(options.body)
    const { signal, maxBytes } = options
    let key: string
    let expected: Map<DigestAlgorithm, Buffer>
    let pending: PendingWrite
    try {
      key = validateKey(options.key)
      if (options.contentType !== undefined && (options.contentType.length > 255 || !CONTENT_TYPE.test(options.contentType))) {
        throw new InputError(`invalid content type for storage key "${key}"`)
      }
      if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) throw new InputError('maxBytes must be a non-negative integer')
      expected = parseExpectations(options.expect)
      for (const a of options.digests ?? []) if (!DIGEST_ALGORITHMS.includes(a)) throw new InputError(`unknown digest algorithm "${a}"`)
      if (signal?.aborted) throw abortReason(signal)
      pending = await this.backend.beginWrite()
    } catch (err) {
      body.destroy()
      throw err
    }

    let wrote = false
    let sha256 = ''
    try {
      const hasher = new DigestStream(['sha256', ...expected.keys(), ...(options.digests ?? [])], maxBytes)
      await this.receive(body, hasher, pending, signal)
      const digests = hasher.digests() as Digests
      for (const [algorithm, bytes] of expected) {
        const actual = digests[algorithm]!
        if (!Buffer.from(actual, 'hex').equals(bytes)) {
          throw new IntegrityError(`${algorithm} mismatch: expected ${bytes.toString('hex')}, got ${actual}`, {
            details: { algorithm, expected: bytes.toString('hex'), actual },
          })
        }
      }
      sha256 = digests.sha256
      const size = hasher.bytes
      const target = blobKey(sha256)
      const publish = async () => {
        await pending.publish(target)
        wrote = true
      }
      return { ...(await this.publishAndLink(key, sha256, size, options.contentType, publish)), digests, deduplicated: !wrote }
    } catch (err) {
      // The transaction failed after this put wrote a new blob: remove it unless referenced.
      if (wrote) await this.collect(sha256, 0)
      throw err
    } finally {
      await pending.discard()
    }
  }

  /**
   * Stores a complete local file under a key, when the caller already hashed it while writing it
   * (the artifact cache spools upstream bodies to disk while hashing them and verifying the
   * declared digests). The filesystem backend hard-links the file into place, so the bytes are
   * written once; other backends stream it. The file is left where it is: the caller removes it.
   * The same refcount protocol as {@link Cas.put} applies.
   */
  async commitFile(options: { key: string; path: string; sha256: string; size: number; contentType?: string }): Promise<CasPutResult> {
    const key = validateKey(options.key)
    const { path, sha256, size } = options
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new InputError('commitFile needs the hex sha256 of the file')
    if (options.contentType !== undefined && (options.contentType.length > 255 || !CONTENT_TYPE.test(options.contentType))) {
      throw new InputError(`invalid content type for storage key "${key}"`)
    }
    const target = blobKey(sha256)
    let wrote = false
    const publish = async () => {
      if (this.backend.publishFile) {
        await this.backend.publishFile(path, target)
      } else {
        const pending = await this.backend.beginWrite()
        try {
          const written = await pending.write(createReadStream(path))
          if (written !== size) throw new Error(`file ${path} has ${written} bytes, expected ${size}`)
          await pending.publish(target)
        } finally {
          await pending.discard()
        }
      }
      wrote = true
    }
    try {
      return { ...(await this.publishAndLink(key, sha256, size, options.contentType, publish)), digests: { sha256 }, deduplicated: !wrote }
    } catch (err) {
      if (wrote) await this.collect(sha256, 0)
      throw err
    }
  }

  /**
   * The tail both writes share: publish the blob unless it exists (outside any lock, so the common
   * path holds no row lock during I/O), link the key in the refcount transaction — publishing again
   * if a concurrent collection removed the object after the dedup check (0 → 1 reference, blob row
   * locked) — then collect whatever blob the key used to point at.
   */
  private async publishAndLink(key: string, sha256: string, size: number, contentType: string | undefined, publish: () => Promise<void>): Promise<Omit<CasPutResult, 'digests' | 'deduplicated'>> {
    const target = blobKey(sha256)
    if (!(await this.backend.exists(target))) await publish()
    const now = this.now()
    const released = await this.link({ key, sha256, size, contentType: contentType ?? null, now }, async () => {
      if (!(await this.backend.exists(target))) await publish()
    })
    this.invalidate(key)
    for (const blob of released) await this.collect(blob.sha256, blob.size)
    return { key, size, sha256, ...(contentType ? { contentType } : {}), createdAt: fromSqlTime(now).toISOString() }
  }

  /** Streams the body through the hasher into the pending write; honours the abort signal. */
  private async receive(body: Readable, hasher: DigestStream, pending: PendingWrite, signal: AbortSignal | undefined): Promise<void> {
    let writing: Promise<number> | undefined
    try {
      await pipeline(body, hasher, async (source: AsyncIterable<Uint8Array>) => {
        writing = pending.write(source)
        await writing
      }, signal ? { signal } : {})
    } catch (err) {
      // pipeline settles as soon as a stage fails; let the backend finish cleaning up first.
      await (writing as Promise<number> | undefined)?.catch(() => {})
      if (signal?.aborted) throw abortReason(signal)
      throw err
    }
    if (signal?.aborted) throw abortReason(signal)
  }

  /**
   * Points `key` at a blob in one transaction: locks the key row, then adjusts the refcounts of
   * the new and the previous blob in sha256 order. Returns the blobs left without references,
   * to be collected after the commit.
   */
  private async link(
    ref: { key: string; sha256: string; size: number; contentType: string | null; now: Date | number },
    onFirstReference: () => Promise<void>,
  ): Promise<Array<{ sha256: string; size: number }>> {
    const { key, sha256, size, contentType, now } = ref
    return this.tx(async (q) => {
      const released: Array<{ sha256: string; size: number }> = []
      const old = await q(`select sha256, size from ${this.refs} where backend = ? and "key" = ?${this.forUpdate}`, [this.name, key])
      const previous = old[0] ? { sha256: String(old[0].sha256), size: Number(old[0].size) } : null
      if (previous) {
        await q(`update ${this.refs} set sha256 = ?, size = ?, content_type = ?, created_at = ? where backend = ? and "key" = ?`,
          [sha256, size, contentType, now, this.name, key])
      } else {
        const inserted = await q(
          `insert into ${this.refs} (backend, "key", sha256, size, content_type, created_at) values (?, ?, ?, ?, ?, ?)
           on conflict (backend, "key") do nothing returning id`, [this.name, key, sha256, size, contentType, now])
        // A concurrent first put of the same key won; start over and overwrite it.
        if (inserted.length === 0) throw new Retry()
      }
      if (previous?.sha256 === sha256) return released
      const steps = [{ sha256, size, delta: 1 }, ...(previous ? [{ ...previous, delta: -1 }] : [])]
      steps.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1))
      for (const step of steps) {
        if (step.delta > 0) {
          const rows = await q(
            `insert into ${this.blobs} as b (backend, sha256, size, refcount, created_at) values (?, ?, ?, 1, ?)
             on conflict (backend, sha256) do update set refcount = b.refcount + 1, size = excluded.size returning refcount`,
            [this.name, sha256, size, now])
          if (Number(rows[0]!.refcount) === 1) await onFirstReference()
        } else {
          const rows = await q(
            `update ${this.blobs} set refcount = refcount - 1 where backend = ? and sha256 = ? and refcount > 0 returning refcount`,
            [this.name, step.sha256])
          if (rows[0] && Number(rows[0].refcount) <= 0) released.push({ sha256: step.sha256, size: step.size })
        }
      }
      return released
    })
  }

  /**
   * Deletes a blob whose refcount is 0 (or that has no row at all: an orphan), holding its row
   * lock while the object is deleted. Failures are logged; `sweep()` retries later.
   */
  private async collect(sha256: string, size: number): Promise<void> {
    try {
      await this.tx(async (q) => {
        // A placeholder row (refcount 0) gives an orphan something to lock; a concurrent put
        // then waits for it and re-publishes the object itself.
        await q(`insert into ${this.blobs} (backend, sha256, size, refcount, created_at) values (?, ?, ?, 0, ?)
                 on conflict (backend, sha256) do nothing`, [this.name, sha256, size, this.now()])
        const rows = await q(`select refcount from ${this.blobs} where backend = ? and sha256 = ?${this.forUpdate}`, [this.name, sha256])
        if (!rows[0] || Number(rows[0].refcount) > 0) return
        await this.backend.delete(blobKey(sha256))
        await q(`delete from ${this.blobs} where backend = ? and sha256 = ? and refcount <= 0`, [this.name, sha256])
      })
    } catch (err) {
      this.log.warn('cannot delete an unreferenced blob; sweep() will retry', { backend: this.name, sha256, error: messageOf(err) })
    }
  }

  /** Deletes every unreferenced blob (left by a crash between a commit and its collection). */
  async sweep(): Promise<number> {
    const rows = await this.db.execute(`select sha256, size from ${this.blobs} where backend = ? and refcount <= 0`, [this.name])
    for (const row of rows) await this.collect(String(row.sha256), Number(row.size))
    return rows.length
  }

  async head(key: string): Promise<StoredObject | null> {
    validateKey(key)
    const ref = await this.resolve(key)
    return ref ? this.stored(key, ref) : null
  }

  /** The blob a key points at, with its refcount; null when the key is absent. */
  async blobOf(key: string): Promise<{ sha256: string; size: number; refcount: number } | null> {
    validateKey(key)
    const ref = await this.lookup(key)
    if (!ref) return null
    const rows = await this.db.execute(`select refcount from ${this.blobs} where backend = ? and sha256 = ?`, [this.name, ref.sha256])
    return { sha256: ref.sha256, size: ref.size, refcount: Number(rows[0]?.refcount ?? 0) }
  }

  /**
   * Opens the blob of a key. A cached mapping whose blob vanished (another replica overwrote or
   * deleted the key) is looked up again once.
   */
  private async open(key: string, range?: { start: number; end: number }): Promise<{ ref: Ref; body: Readable } | null> {
    let ref = await this.resolve(key)
    for (let attempt = 0; ref && attempt < 2; attempt++) {
      const found = await this.backend.read(blobKey(ref.sha256), range)
      if (found) return { ref, body: found.body }
      this.invalidate(key)
      const again = await this.lookup(key)
      if (!again || again.sha256 === ref.sha256) {
        if (again) this.log.error('a referenced blob is missing', { backend: this.name, key, sha256: ref.sha256 })
        return null
      }
      ref = again
    }
    return null
  }

  /** A stream of the object, or of an inclusive range of it (clamped to its size). */
  async get(key: string, options: { range?: { start: number; end?: number } } = {}): Promise<{ object: StoredObject; body: Readable } | null> {
    validateKey(key)
    const { range } = options
    if (range) {
      if (!Number.isSafeInteger(range.start) || range.start < 0 || (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start))) {
        throw new InputError(`invalid byte range ${range.start}-${range.end ?? ''}`)
      }
      const ref = await this.resolve(key)
      if (!ref) return null
      const span = clampRange(range, ref.size)
      if (!span) return { object: this.stored(key, ref), body: Readable.from([]) }
      const opened = await this.open(key, span)
      return opened ? { object: this.stored(key, opened.ref), body: opened.body } : null
    }
    const opened = await this.open(key)
    return opened ? { object: this.stored(key, opened.ref), body: opened.body } : null
  }

  /** Removes a key; its blob goes with its last key. Returns whether the key existed. */
  async delete(key: string): Promise<boolean> {
    validateKey(key)
    let released: { sha256: string; size: number } | null = null
    const existed = await this.tx(async (q) => {
      released = null
      const rows = await q(`select sha256, size from ${this.refs} where backend = ? and "key" = ?${this.forUpdate}`, [this.name, key])
      const row = rows[0]
      if (!row) return false
      await q(`delete from ${this.refs} where backend = ? and "key" = ?`, [this.name, key])
      const left = await q(`update ${this.blobs} set refcount = refcount - 1 where backend = ? and sha256 = ? and refcount > 0 returning refcount`,
        [this.name, row.sha256])
      if (left[0] && Number(left[0].refcount) <= 0) released = { sha256: String(row.sha256), size: Number(row.size) }
      return true
    })
    this.invalidate(key)
    const blob = released as { sha256: string; size: number } | null
    if (blob) await this.collect(blob.sha256, blob.size)
    return existed
  }

  /** Keys under a prefix, in byte order, read in pages. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    validatePrefix(prefix)
    // A prefix range is exact in byte order and lets the (backend, key) index do the work.
    const upper = prefix ? prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1) : null
    let after: string | null = null
    for (;;) {
      const where = [`backend = ?`]
      const params: unknown[] = [this.name]
      if (prefix) {
        where.push(`"key"${this.collate} >= ?`, `"key"${this.collate} < ?`)
        params.push(prefix, upper)
      }
      if (after !== null) {
        where.push(`"key"${this.collate} > ?`)
        params.push(after)
      }
      const rows = await this.db.execute(
        `select "key", sha256, size, content_type, created_at from ${this.refs} where ${where.join(' and ')} order by "key"${this.collate} limit ${PAGE}`,
        params)
      for (const row of rows) {
        yield this.stored(String(row.key), {
          sha256: String(row.sha256), size: Number(row.size), contentType: (row.content_type as string | null) ?? null, createdAt: fromSqlTime(row.created_at),
        })
      }
      if (rows.length < PAGE) return
      after = String(rows[rows.length - 1]!.key)
    }
  }

  /**
   * Answers a GET or HEAD of a stored object: ETag (`"<sha256>"`), Last-Modified, 304 on
   * `If-None-Match` / `If-Modified-Since`, a single `Range` (206, or 416 when unsatisfiable;
   * several ranges get the whole object), `If-Range`. Null when the key is absent.
   */
  async serve(options: ServeOptions): Promise<RegistryReply | null> {
    const key = validateKey(options.key)
    const ref = await this.resolve(key)
    if (!ref) return null
    const req = options.request
    const header = (name: string) => req.headers[name] ?? undefined
    const etag = `"${ref.sha256}"`
    const extra: Record<string, string> = {}
    for (const [name, value] of Object.entries(options.headers ?? {})) extra[name.toLowerCase()] = value
    const headers: Record<string, string> = {
      'last-modified': ref.createdAt.toUTCString(),
      ...extra,
      'content-type': options.contentType ?? extra['content-type'] ?? ref.contentType ?? 'application/octet-stream',
      etag,
      'accept-ranges': 'bytes',
    }
    const lastModified = ref.createdAt

    const inm = header('if-none-match')
    const ims = header('if-modified-since')
    if (inm !== undefined ? noneMatch(inm, etag) : ims !== undefined && notModifiedSince(ims, lastModified)) {
      delete headers['content-type']
      return { status: 304, headers, body: null }
    }

    const ifRange = header('if-range')
    const wanted = ifRange !== undefined && !ifRangeHolds(ifRange, etag, lastModified)
      ? { kind: 'full' as const }
      : parseRange(header('range'), ref.size)
    if (wanted.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...headers, 'content-range': `bytes */${ref.size}`, 'content-length': '0' }, body: null }
    }
    const span = wanted.kind === 'partial' ? { start: wanted.start, end: wanted.end } : null
    const length = span ? span.end - span.start + 1 : ref.size
    const status = span ? 206 : 200
    headers['content-length'] = String(length)
    if (span) headers['content-range'] = `bytes ${span.start}-${span.end}/${ref.size}`
    if (req.method === 'HEAD') return { status, headers, body: null }

    if (ref.size <= this.smallMax && ref.size > 0) {
      let bytes = this.small.get(ref.sha256)
      if (!bytes) {
        const whole = await this.open(key)
        if (!whole) return null
        if (whole.ref.sha256 !== ref.sha256) {
          whole.body.destroy()
          return this.serve(options)
        }
        const chunks: Buffer[] = []
        for await (const c of whole.body) chunks.push(c as Buffer)
        bytes = Buffer.concat(chunks)
        if (bytes.length !== ref.size) throw new Error(`blob ${ref.sha256} has ${bytes.length} bytes, ${ref.size} expected`)
        this.small.set(ref.sha256, bytes)
      }
      // Still a stream, as every serve() body is; one chunk, no file-system work.
      return { status, headers, body: Readable.from([span ? bytes.subarray(span.start, span.end + 1) : bytes], { objectMode: false }) }
    }

    const opened = await this.open(key, span ?? undefined)
    if (!opened) return null
    if (opened.ref.sha256 !== ref.sha256) return this.serve(options) // the key changed under us: start over
    if (length === 0) {
      opened.body.destroy()
      return { status, headers, body: Readable.from([]) }
    }
    return { status, headers, body: opened.body }
  }

  /**
   * The plugin-facing storage of one registry instance: keys live under `registries/<name>/`,
   * and results carry the plugin's own keys.
   */
  scoped(registryName: string): BlobStorageService {
    if (!isKeySegment(registryName)) throw new InputError(`invalid registry name for storage: "${registryName}"`)
    const base = `registries/${registryName}/`
    const inner = (key: string) => validateKey(base + validateKey(key))
    const outer = <T extends StoredObject>(object: T): T => ({ ...object, key: object.key.slice(base.length) })
    return Object.freeze({
      put: async (options: Parameters<BlobStorageService['put']>[0]) => {
        const { deduplicated: _, ...stored } = await this.put({ ...options, key: inner(options.key), digests: options.digests ?? [] })
        return outer(stored) as StoredObject & { digests: Partial<Record<DigestAlgorithm, string>> & { sha256: string } }
      },
      head: async (key: string) => {
        const object = await this.head(inner(key))
        return object && outer(object)
      },
      get: async (key: string, options?: { range?: { start: number; end?: number } }) => {
        const found = await this.get(inner(key), options)
        return found && { object: outer(found.object), body: found.body }
      },
      delete: (key: string) => this.delete(inner(key)),
      list: (prefix: string) => {
        const objects = this.list(base + validatePrefix(prefix))
        return (async function* () {
          for await (const object of objects) yield outer(object)
        })()
      },
      serve: (options: Parameters<BlobStorageService['serve']>[0]) => this.serve({ ...options, key: inner(options.key) }),
    })
  }
}
