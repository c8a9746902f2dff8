/**
 * One upstream fetch of an artifact, shared by every client that asks for it while it runs
 * (single-flight).
 *
 * The upstream body is written to a spool file under `<data_dir>/spool/` while it is hashed (sha256
 * plus every declared algorithm) and counted against the size limit. Every client gets a
 * {@link SpoolReader} that tails the file, so memory does not grow with the artifact, a slow client
 * never slows the upstream down, and a client that joins late still gets the whole body. Readers
 * hold back the last {@link HOLD_BACK} bytes until the digests are verified and the artifact is
 * committed; on a mismatch, a truncated upstream body or a size overflow, readers are destroyed
 * and nothing is stored. Clients wait for {@link ArtifactFetch.ready} before any response header
 * goes out, so a failure before the first byte is releasable (every small artifact: it fits in
 * the held-back tail) reaches the client as a proper error response; later, a client sees a
 * truncated response. When every interested party (clients, prefetches)
 * has gone while the body is still downloading, the upstream request is aborted and the spool
 * file removed.
 *
 * On success the spool file is committed into the CAS with `Cas.commitFile` (a hard link on the
 * filesystem backend: the bytes are written to disk once; readers get the last byte once the
 * artifact is committed). With a remote backend (S3) the commit is an upload, so readers are
 * released as soon as the digests are verified.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import {
  GoneError, IntegrityError, NotFoundError, PayloadTooLargeError, UpstreamError, UpstreamTimeoutError,
  type ArtifactRequest, type DigestAlgorithm, type LoggerService,
} from '@batlehub/sdk'
import type { Cas, CasPutResult } from '../storage/cas.ts'
import { parseExpectations } from '../storage/digests.ts'
import type { KernelUpstreamRequest, UpstreamHttp } from '../upstream/http.ts'

/**
 * Bytes every reader holds back until the artifact is verified and committed. Artifacts no larger
 * than this (checksum files, small descriptors) are verified before a client sees a header; a
 * larger window would cover more of them but hold back more of every streamed miss, and a size
 * overflow past it still cuts a started response.
 */
export const HOLD_BACK = 512
/** Largest chunk a reader reads from the spool file at once. */
const READ_CHUNK = 64 * 1024

export interface FetchHeadCached {
  cached: true
}
export interface FetchHeadStreaming {
  cached: false
  /** The upstream Content-Length, when it sent one. */
  length?: number
  contentType?: string
}
export type FetchHead = FetchHeadCached | FetchHeadStreaming

export interface CommitInfo {
  stored: CasPutResult
  upstreamUrl: string
}

export interface ArtifactFetchOptions {
  /** The CAS key (`registries/<name>/<key>`). */
  casKey: string
  request: ArtifactRequest
  maxBytes: number
  cas: Cas
  http: Pick<UpstreamHttp, 'request'>
  spoolDir: string
  /** No upstream byte for this long fails the fetch (a stalled body). */
  idleTimeoutMs: number
  log: LoggerService
  /** Records the committed artifact (DB row, event). A failure is logged and undoes the commit. */
  onCommitted(info: CommitInfo): Promise<void>
  /** Called once, synchronously, when the fetch settles (the single-flight map forgets it). */
  onSettled(): void
  onBytes(n: number): void
  onDigestMismatch(): void
  onUpstreamFailure(err: unknown): void
}

/** Thrown into readers and waiters when every party went away. */
export class FetchAbandoned extends Error {
  override readonly name = 'AbortError'
  constructor() {
    super('every client went away; upstream fetch aborted')
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {}) // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject }
}

/** Errors from the upstream or the network become the SDK's 502/504; BatleHub errors pass. */
export function asUpstreamError(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string' && code.startsWith('BH_')) return err
  if ((err as Error)?.name === 'AbortError') return err
  if (code === 'ETIMEDOUT' || (err as Error)?.name === 'TimeoutError') return new UpstreamTimeoutError(`${what}: upstream timed out`, { cause: err })
  return new UpstreamError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

export class ArtifactFetch {
  readonly head: Promise<FetchHead>
  /**
   * Resolves once a reader may send its first byte (more than {@link HOLD_BACK} bytes spooled, or
   * every byte released); rejects when the fetch fails before. Response headers wait for it.
   */
  readonly ready: Promise<void>
  /** Settles when the fetch is over: `fetched` (committed), `cached` (was there already), or the error. */
  readonly done: Promise<'fetched' | 'cached'>
  /** Resolves once the fetch cleaned up after itself (spool file removed). Never rejects. */
  readonly finished: Promise<void>
  /** Bytes in the spool file. */
  written = 0
  /** The error that ended the fetch. */
  error: unknown = undefined
  /** Every byte may go out: verified and committed. */
  released = false
  fh: FileHandle | undefined

  private readonly headD = deferred<FetchHead>()
  private readonly readyD = deferred<void>()
  private readonly doneD = deferred<'fetched' | 'cached'>()
  private readonly controller = new AbortController()
  private readonly readers = new Set<SpoolReader>()
  private wakeups: Array<() => void> = []
  private parties = 0
  /** Holders of the file handle: the fetch itself and every attachment. */
  private refs = 1
  private downloading = true
  private settled = false
  private body: Readable | undefined

  constructor(private readonly o: ArtifactFetchOptions) {
    this.head = this.headD.promise
    this.ready = this.readyD.promise
    this.done = this.doneD.promise
    this.finished = this.run().catch((err) => o.log.error('artifact fetch crashed', { error: (err as Error)?.message }))
  }

  /**
   * Registers an interested party (a client or a prefetch). The party keeps the upstream fetch
   * alive until `release()`; a client's signal releases it when the client goes away.
   */
  attach(signal?: AbortSignal): Attachment {
    this.parties++
    this.refs++
    return new Attachment(this, signal)
  }

  /** Aborts the fetch (kernel shutdown). */
  abort(reason: unknown): void {
    if (this.settled) return
    this.fail(reason)
  }

  /** A promise that resolves at the next write or state change. */
  progress(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve))
  }

  /** @internal */
  detach(): void {
    this.parties--
    this.unref()
    if (this.parties <= 0 && this.downloading && !this.settled) {
      this.o.log.debug('every client went away; aborting the upstream fetch', { key: this.o.casKey })
      this.fail(new FetchAbandoned())
    }
  }

  /** @internal */
  addReader(reader: SpoolReader): void {
    this.readers.add(reader)
  }

  /** @internal */
  removeReader(reader: SpoolReader): void {
    this.readers.delete(reader)
  }

  /** @internal */
  countServed(n: number): void {
    this.o.onBytes(n)
  }

  private wake(): void {
    if (this.released || this.written > HOLD_BACK) this.readyD.resolve()
    const w = this.wakeups
    this.wakeups = []
    for (const resolve of w) resolve()
  }

  private unref(): void {
    if (--this.refs === 0 && this.fh) {
      const fh = this.fh
      this.fh = undefined
      fh.close().catch(() => {})
    }
  }

  /** Releases every byte to the readers; `storeError` still fails `done` (prefetch, warming). */
  private settle(result: 'fetched' | 'cached', storeError?: unknown): void {
    if (this.settled) return
    this.settled = true
    this.downloading = false
    this.o.onSettled()
    this.released = true
    this.wake()
    if (storeError !== undefined) this.doneD.reject(storeError)
    else this.doneD.resolve(result)
  }

  private fail(err: unknown): void {
    if (this.settled) return
    this.settled = true
    this.downloading = false
    this.error = err
    this.o.onSettled()
    this.controller.abort(err)
    this.body?.destroy()
    this.headD.reject(err)
    this.readyD.reject(err)
    this.doneD.reject(err)
    for (const reader of [...this.readers]) reader.destroy(err instanceof Error ? err : new Error(String(err)))
    this.wake()
  }

  private async run(): Promise<void> {
    const { request, maxBytes, cas, casKey } = this.o
    let spool: string | undefined
    let stage = 'request'
    try {
      // A malformed declared digest is refused before anything is asked of the upstream.
      const expected = parseExpectations(request.expect)
      if (await cas.head(casKey)) {
        this.headD.resolve({ cached: true })
        this.settle('cached')
        return
      }
      if (this.controller.signal.aborted) throw this.controller.signal.reason
      const upstreamRequest: KernelUpstreamRequest = {
        ...request.upstream, method: 'GET', raw: true, signal: this.controller.signal,
      }
      let res
      try {
        res = await this.o.http.request(upstreamRequest)
      } catch (err) {
        throw asUpstreamError(err, `artifact ${request.key}`)
      }
      if (this.settled) {
        res.dispose()
        return
      }
      if (res.status === 404 || res.status === 410) {
        res.dispose()
        const message = `${request.name}${request.version ? `@${request.version}` : ''}: ${request.key} not found upstream`
        throw res.status === 410 ? new GoneError(message) : new NotFoundError(message)
      }
      if (res.status !== 200) {
        res.dispose()
        throw new UpstreamError(`upstream ${res.url} answered ${res.status} for artifact ${request.key}`)
      }
      const declared = res.headers['content-length']
      const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined
      if (length !== undefined && length > maxBytes) {
        res.dispose()
        throw new PayloadTooLargeError(`artifact ${request.key} is ${length} bytes, more than the limit of ${maxBytes}`)
      }
      const hashes = new Map<DigestAlgorithm, Hash>([['sha256', createHash('sha256')]])
      for (const algorithm of expected.keys()) if (!hashes.has(algorithm)) hashes.set(algorithm, createHash(algorithm))

      stage = 'spool'
      spool = join(this.o.spoolDir, `${Date.now().toString(36)}-${randomBytes(10).toString('hex')}`)
      this.fh = await open(spool, 'wx+', 0o644)
      if (this.settled) {
        res.dispose()
        return
      }
      this.headD.resolve({ cached: false, ...(length !== undefined ? { length } : {}), ...(res.headers['content-type'] ? { contentType: res.headers['content-type'] } : {}) })

      stage = 'body'
      const body = res.stream()
      this.body = body
      let idle: NodeJS.Timeout | undefined
      if (this.o.idleTimeoutMs > 0) {
        idle = setTimeout(() => {
          body.destroy(new UpstreamTimeoutError(`upstream sent no bytes of ${request.key} for ${this.o.idleTimeoutMs} ms`))
        }, this.o.idleTimeoutMs)
        idle.unref()
      }
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          idle?.refresh()
          if (this.written + chunk.length > maxBytes) {
            throw new PayloadTooLargeError(`artifact ${request.key} is larger than the limit of ${maxBytes} bytes`)
          }
          for (const h of hashes.values()) h.update(chunk)
          for (let offset = 0; offset < chunk.length;) {
            const { bytesWritten } = await this.fh.write(chunk, offset, chunk.length - offset)
            offset += bytesWritten
          }
          this.written += chunk.length
          this.wake()
          if (this.settled) return
        }
      } catch (err) {
        if (this.settled) return
        throw asUpstreamError(err, `artifact ${request.key}`)
      } finally {
        clearTimeout(idle)
      }
      if (this.settled) return
      if (length !== undefined && this.written !== length) {
        throw new UpstreamError(`upstream body of ${request.key} ended after ${this.written} of ${length} bytes`)
      }
      const digests: Partial<Record<DigestAlgorithm, string>> = {}
      for (const [algorithm, h] of hashes) digests[algorithm] = h.digest('hex')
      for (const [algorithm, bytes] of expected) {
        if (!Buffer.from(digests[algorithm]!, 'hex').equals(bytes)) {
          this.o.onDigestMismatch()
          throw new IntegrityError(`${request.key}: upstream ${algorithm} ${digests[algorithm]} does not match the declared ${bytes.toString('hex')}`, {
            details: { algorithm, expected: bytes.toString('hex'), actual: digests[algorithm] },
          })
        }
      }

      // The whole body is here and verified: no client leaving can undo it any more.
      this.downloading = false
      stage = 'commit'
      if (!cas.backend.publishFile) {
        // Committing streams the file to a remote store (S3): the verified bytes need not wait
        // for that upload. With a local backend the commit is a link, and clients are released
        // once the artifact is in the cache.
        this.released = true
        this.wake()
      }
      let stored: CasPutResult
      try {
        await this.fh.sync()
        stored = await cas.commitFile({
          key: casKey, path: spool, sha256: digests.sha256!, size: this.written,
          ...(request.contentType ? { contentType: request.contentType } : {}),
        })
      } catch (err) {
        // Storage failed, but the bytes are verified: the waiting clients still get them.
        this.o.log.error('cannot store a fetched artifact', { key: casKey, error: (err as Error).message })
        this.settle('fetched', err)
        return
      }
      try {
        await this.o.onCommitted({ stored, upstreamUrl: res.url })
      } catch (err) {
        this.o.log.error('cannot record a cached artifact; removing it again', { key: casKey, error: (err as Error).message })
        await cas.delete(casKey).catch(() => {})
        // The bytes are verified: the waiting clients still get them.
        this.settle('fetched', err)
        return
      }
      this.settle('fetched')
    } catch (err) {
      if (!this.settled) {
        const code = (err as { code?: unknown })?.code
        const quiet = stage === 'commit' || (err as Error)?.name === 'AbortError' || code === 'BH_NOT_FOUND' || code === 'BH_GONE' || code === 'BH_INPUT'
        if (!quiet) this.o.onUpstreamFailure(err)
        this.fail(err)
      }
    } finally {
      if (spool) await unlink(spool).catch(() => {})
      this.unref()
    }
  }
}

/** One party's interest in a fetch. */
export class Attachment {
  private released = false
  private readonly onAbort: (() => void) | undefined

  constructor(readonly fetch: ArtifactFetch, private readonly signal?: AbortSignal) {
    if (signal) {
      this.onAbort = () => this.release()
      if (signal.aborted) queueMicrotask(this.onAbort)
      else signal.addEventListener('abort', this.onAbort, { once: true })
    }
  }

  /** A reader of the spool; it releases this attachment when it ends or is destroyed. */
  reader(): SpoolReader {
    return new SpoolReader(this.fetch, this)
  }

  release(): void {
    if (this.released) return
    this.released = true
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort)
    this.fetch.detach()
  }
}

/** Tails the spool file of a fetch: see the module comment. */
export class SpoolReader extends Readable {
  private pos = 0
  private reading: Promise<unknown> | undefined

  constructor(private readonly fetch: ArtifactFetch, private readonly attachment: Attachment) {
    super({ highWaterMark: READ_CHUNK })
    fetch.addReader(this)
    if (fetch.error !== undefined) queueMicrotask(() => this.destroy(fetch.error as Error))
  }

  override _read(): void {
    this.next().catch((err) => this.destroy(err))
  }

  private async next(): Promise<void> {
    for (;;) {
      if (this.destroyed) return
      const f = this.fetch
      if (f.error !== undefined) {
        this.destroy(f.error instanceof Error ? f.error : new Error(String(f.error)))
        return
      }
      const limit = f.released ? f.written : Math.max(0, f.written - HOLD_BACK)
      if (this.pos < limit && f.fh) {
        const n = Math.min(limit - this.pos, READ_CHUNK)
        const buf = Buffer.allocUnsafe(n)
        const read = f.fh.read(buf, 0, n, this.pos)
        this.reading = read
        const { bytesRead } = await read
        this.reading = undefined
        if (this.destroyed) return
        if (bytesRead === 0) throw new Error('spool file is shorter than its bytes written')
        this.pos += bytesRead
        f.countServed(bytesRead)
        this.push(bytesRead === n ? buf : buf.subarray(0, bytesRead))
        return
      }
      if (f.released && this.pos >= f.written) {
        this.push(null)
        return
      }
      await f.progress()
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const finish = () => {
      this.fetch.removeReader(this)
      this.attachment.release()
      callback(err)
    }
    if (this.reading) this.reading.then(finish, finish)
    else finish()
  }
}
