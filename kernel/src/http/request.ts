/**
 * Adapts a Koa context to the SDK's RegistryRequest, with bounded body readers.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import busboy from 'busboy'
import type { Context } from 'koa'
import {
  InputError, PayloadTooLargeError, type Identity, type MultipartHandlers, type RegistryRequest, type RequestBody, type SpooledFile,
} from '@batlehub/sdk'
import { spoolTo } from '../archives/archives.ts'

/** Counts bytes and fails with PayloadTooLargeError past `limit`. */
export class ByteLimit extends Transform {
  seen = 0
  constructor(private readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen > this.limit) cb(new PayloadTooLargeError(`request body exceeds ${this.limit} bytes`))
    else cb(null, chunk)
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export class KoaRequestBody implements RequestBody {
  private used = false
  constructor(private readonly ctx: Context, private readonly defaultLimit: number, private readonly spoolDir?: string) {}

  async spool(limit = this.defaultLimit): Promise<SpooledFile> {
    if (!this.spoolDir) throw new Error('no spool directory for this request')
    const file = await spoolTo(this.spoolDir, this.take(limit), limit)
    // Removed when the response ends, whatever the handler did with it.
    this.ctx.res.once('close', () => void file.cleanup())
    return file
  }

  private take(limit: number): Readable {
    if (this.used) throw new InputError('request body already read')
    this.used = true
    const declared = Number(this.ctx.get('content-length') || NaN)
    if (Number.isFinite(declared) && declared > limit) {
      // Refuse before reading a byte; drain nothing more than the socket already has.
      throw new PayloadTooLargeError(`request body of ${declared} bytes exceeds the limit of ${limit} bytes`)
    }
    const counter = new ByteLimit(limit)
    const req = this.ctx.req
    req.on('error', (err) => counter.destroy(err))
    counter.on('error', () => req.unpipe(counter))
    return req.pipe(counter)
  }

  stream(): Readable {
    return this.take(this.defaultLimit)
  }
  async buffer(limit = this.defaultLimit): Promise<Buffer> {
    return collect(this.take(limit))
  }
  async text(limit = this.defaultLimit): Promise<string> {
    return (await this.buffer(limit)).toString('utf8')
  }
  async json<T = unknown>(limit = this.defaultLimit): Promise<T> {
    const text = await this.text(limit)
    try {
      return JSON.parse(text) as T
    } catch (err) {
      throw new InputError(`malformed JSON body: ${(err as Error).message}`)
    }
  }

  multipart(handlers: MultipartHandlers): Promise<Record<string, string[]>> {
    const contentType = this.ctx.get('content-type')
    if (!/^multipart\/form-data/i.test(contentType)) return Promise.reject(new InputError('expected a multipart/form-data body'))
    const source = this.take(this.defaultLimit)
    const maxFile = handlers.maxFileBytes ?? this.defaultLimit
    return new Promise((resolve, reject) => {
      let parser: busboy.Busboy
      try {
        parser = busboy({ headers: { 'content-type': contentType }, limits: { fileSize: maxFile, fieldSize: 1 << 20, fields: 1000, parts: 2000 } })
      } catch (err) {
        reject(new InputError(`malformed multipart body: ${(err as Error).message}`))
        return
      }
      const fields: Record<string, string[]> = {}
      let chain: Promise<void> = Promise.resolve()
      let failed = false
      const fail = (err: unknown) => {
        if (failed) return
        failed = true
        source.unpipe(parser)
        source.resume()
        reject(err)
      }
      parser.on('field', (name, value, info) => {
        if (info.valueTruncated) return fail(new PayloadTooLargeError(`multipart field ${name} is too large`))
        ;(fields[name] ??= []).push(value)
      })
      parser.on('file', (field, stream, info) => {
        stream.on('limit', () => stream.destroy(new PayloadTooLargeError(`file ${info.filename} exceeds ${maxFile} bytes`)))
        // Files are handed over one at a time, in order; fields seen so far are available.
        chain = chain.then(() =>
          failed
            ? void stream.resume()
            : handlers.onFile({ field, filename: info.filename ?? '', contentType: info.mimeType, stream }),
        )
        chain.catch(fail)
      })
      parser.on('error', (err) => fail(new InputError(`malformed multipart body: ${(err as Error).message}`)))
      source.on('error', fail)
      parser.on('close', () => {
        chain.then(() => !failed && resolve(fields), fail)
      })
      source.pipe(parser)
    })
  }
}

export interface RequestAdapterOptions {
  identity: Identity
  baseUrl: string
  ip: string
  path: string
  params: Record<string, string>
  bodyLimit: number
  signal: AbortSignal
  spoolDir?: string
}

export function toRegistryRequest(ctx: Context, o: RequestAdapterOptions): RegistryRequest {
  const headers = ctx.headers as Record<string, string | undefined>
  let body: RequestBody | undefined
  return {
    method: ctx.method,
    path: o.path,
    params: o.params,
    query: new URLSearchParams(ctx.querystring),
    headers,
    identity: o.identity,
    baseUrl: o.baseUrl,
    ip: o.ip,
    signal: o.signal,
    get body() {
      body ??= new KoaRequestBody(ctx, o.bodyLimit, o.spoolDir)
      return body
    },
    header(name: string) {
      const v = ctx.headers[name.toLowerCase()]
      return Array.isArray(v) ? v.join(', ') : v
    },
  }
}
