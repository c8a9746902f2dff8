/**
 * Upstream HTTP for one registry instance (got): upstream auth, custom CA, timeouts, and
 * multi-upstream fanout (404/410 fall through, errors are retried on the next upstream).
 */
import { readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import got, { type Request as GotRequest } from 'got'
import {
  InputError, PayloadTooLargeError, UpstreamError, UpstreamTimeoutError,
  type HttpService, type LoggerService, type UpstreamRequest, type UpstreamResponse,
} from '@batlehub/sdk'

export type UpstreamAuth =
  | { type: 'bearer'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'header'; name: string; value: string }

export interface UpstreamHttpOptions {
  registry: string
  upstreams: readonly string[]
  auth?: UpstreamAuth
  tls?: { ca_cert_path?: string; insecure_skip_verify?: boolean }
  timeoutMs: number
  userAgent: string
  log: LoggerService
}

function authHeaders(auth?: UpstreamAuth): Record<string, string> {
  if (!auth) return {}
  switch (auth.type) {
    case 'bearer': return { authorization: `Bearer ${auth.token}` }
    case 'basic': return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
    case 'header': return { [auth.name.toLowerCase()]: auth.value }
  }
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}

async function readLimited(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of stream) {
    n += (c as Buffer).length
    if (n > limit) {
      stream.destroy()
      throw new PayloadTooLargeError(`upstream response exceeds ${limit} bytes`)
    }
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

class Response implements UpstreamResponse {
  private consumed = false
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string | undefined>>,
    readonly url: string,
    readonly upstream: string,
    private readonly body: GotRequest,
  ) {}
  stream(): Readable {
    if (this.consumed) throw new Error('upstream body already read')
    this.consumed = true
    return this.body
  }
  async buffer(limit = 64 * 1024 * 1024): Promise<Buffer> {
    return readLimited(this.stream(), limit)
  }
  async text(limit?: number): Promise<string> {
    return (await this.buffer(limit)).toString('utf8')
  }
  async json<T = unknown>(limit?: number): Promise<T> {
    const text = await this.text(limit)
    try {
      return JSON.parse(text) as T
    } catch (err) {
      throw new UpstreamError(`upstream ${this.url} sent malformed JSON: ${(err as Error).message}`)
    }
  }
  dispose(): void {
    if (!this.consumed) {
      this.consumed = true
      this.body.destroy()
    }
  }
}

/**
 * The kernel's own upstream requests: the SDK request plus options only kernel engines use.
 */
export interface KernelUpstreamRequest extends UpstreamRequest {
  /**
   * The body exactly as the upstream sends it: `Accept-Encoding: identity` and no content
   * decoding, so that `Content-Length` is the stored size and digests apply to the stored bytes
   * (the artifact cache).
   */
  raw?: boolean
}

export class UpstreamHttp implements HttpService {
  readonly upstreams: readonly string[]
  private readonly origins: Set<string>
  private readonly auth: Record<string, string>
  private readonly https: { certificateAuthority?: Buffer; rejectUnauthorized?: boolean }

  constructor(private readonly o: UpstreamHttpOptions) {
    this.upstreams = Object.freeze(o.upstreams.map((u) => u.replace(/\/+$/, '')))
    this.origins = new Set(this.upstreams.map((u) => new URL(u).origin))
    this.auth = authHeaders(o.auth)
    this.https = {}
    if (o.tls?.ca_cert_path) this.https.certificateAuthority = readFileSync(o.tls.ca_cert_path)
    if (o.tls?.insecure_skip_verify) this.https.rejectUnauthorized = false
  }

  async request(req: KernelUpstreamRequest): Promise<UpstreamResponse> {
    if ((req.path === undefined) === (req.url === undefined)) throw new InputError('upstream request needs exactly one of path or url')
    if (req.url !== undefined) {
      const origin = new URL(req.url).origin
      return this.once(req.url, origin, req)
    }
    if (this.upstreams.length === 0) throw new UpstreamError(`registry ${this.o.registry} has no upstream`)
    const path = req.path!.startsWith('/') ? req.path! : `/${req.path}`
    let lastMiss: UpstreamResponse | undefined
    let lastError: unknown
    for (const base of this.upstreams) {
      try {
        const res = await this.once(base + path, base, req)
        if (res.status === 404 || res.status === 410) {
          lastMiss?.dispose()
          lastMiss = res
          continue
        }
        if (res.status >= 500) {
          res.dispose()
          lastError = new UpstreamError(`upstream ${base} answered ${res.status} for ${path}`)
          this.o.log.warn('upstream error, trying the next upstream', { upstream: base, path, status: res.status })
          continue
        }
        lastMiss?.dispose()
        return res
      } catch (err) {
        lastError = err
        this.o.log.warn('upstream failed, trying the next upstream', { upstream: base, path, err: (err as Error).message })
        if ((err as Error)?.name === 'AbortError' || req.signal?.aborted) throw err
      }
    }
    if (lastMiss) return lastMiss
    throw lastError instanceof UpstreamTimeoutError || lastError instanceof UpstreamError
      ? lastError
      : new UpstreamError(`every upstream of ${this.o.registry} failed`, { cause: lastError })
  }

  private once(url: string, upstream: string, req: KernelUpstreamRequest): Promise<UpstreamResponse> {
    const sameOrigin = this.origins.has(new URL(url).origin)
    const headers: Record<string, string> = {
      'user-agent': this.o.userAgent,
      ...(sameOrigin ? this.auth : {}),
      ...(req.headers ?? {}),
      ...(req.raw ? { 'accept-encoding': 'identity' } : {}),
    }
    const timeoutMs = req.timeoutMs ?? this.o.timeoutMs
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const stream = got.stream(url, {
        method: req.method ?? 'GET',
        headers,
        body: req.body,
        throwHttpErrors: false,
        retry: { limit: 0 },
        followRedirect: true,
        timeout: { lookup: timeoutMs, connect: timeoutMs, secureConnect: timeoutMs, response: timeoutMs },
        https: this.https,
        decompress: !req.raw,
        signal: req.signal,
      } as any) as unknown as GotRequest
      stream.once('response', (res: any) => {
        resolve(new Response(res.statusCode, flatHeaders(res.headers), res.url ?? url, upstream, stream))
      })
      stream.once('error', (err: any) => {
        if (err?.code === 'ETIMEDOUT' || err?.name === 'TimeoutError') {
          reject(new UpstreamTimeoutError(`upstream ${url} timed out after ${timeoutMs} ms`, { cause: err }))
        } else if (err?.name === 'AbortError' || req.signal?.aborted) {
          reject(err)
        } else {
          reject(new UpstreamError(`upstream ${url}: ${err?.code ?? ''} ${err?.message ?? err}`.trim(), { cause: err }))
        }
      })
    })
  }
}
