/**
 * S3 backend (AWS S3, MinIO, RustFS, Ceph RGW, …) on @aws-sdk/client-s3.
 *
 * Writes: the body is cut into parts of 8 MiB, holding at most one part in memory. A body that
 * ends within the first part is kept in that buffer and published with one `PutObject`. A larger
 * body streams as a multipart upload to a temporary key under `.tmp/`, which is aborted when the
 * body fails; it is completed when the body ended, and `publish` copies it server-side to the
 * destination (`CopyObject`, or `UploadPartCopy` parts above 5 GiB). The multipart upload cannot
 * target the destination directly: the destination is `blob/{sha256}` and the digest is only known
 * once the last byte went through. Either way the destination appears whole or not at all.
 *
 * Checksums: `requestChecksumCalculation`/`responseChecksumValidation` are `WHEN_REQUIRED`. The SDK
 * default (a trailing checksum with aws-chunked encoding) is stored verbatim, framing included, by
 * several S3-compatible servers; integrity is checked by the CAS, which hashes every byte itself.
 *
 * Temporary objects older than an hour and multipart uploads under `.tmp/` started more than a day
 * ago are swept in the background when the backend is first written to. An S3 lifecycle rule
 * aborting incomplete multipart uploads is still a good idea on real buckets.
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command,
  PutObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
  type CompletedPart, type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { InputError } from '@batlehub/sdk'
import { validateKey, validatePrefix } from './keys.ts'
import { registerS3 } from './s3-loader.ts'
import {
  messageOf, silentLog, TEMP_DIR,
  type BackendOptions, type ByteRange, type PendingWrite, type StorageBackend,
} from './backend.ts'

/** `[storage]` / `[[storage.backends]]` entry of type `s3`. */
export interface S3BackendConfig {
  type: 's3'
  bucket: string
  /** Default `us-east-1`. */
  region?: string
  /** Custom endpoint for S3-compatible servers (`http://minio:9000`). */
  endpoint_url?: string
  /** Path-style URLs (`http://host/bucket/key`); most self-hosted servers need it. */
  force_path_style?: boolean
  /** Static credentials; both or neither. Without them the SDK's default chain applies. */
  access_key_id?: string
  secret_access_key?: string
  /** Key prefix inside the bucket (`batlehub/`), so that several hubs can share one bucket. */
  prefix?: string
}

export interface S3BackendOptions extends BackendOptions {
  /** Multipart part size and the largest body sent with a single PutObject; default 8 MiB, at least 5 MiB. */
  partSize?: number
  /** Above this size `publish` copies with UploadPartCopy instead of CopyObject; default 5 GiB (the CopyObject limit). */
  multipartCopyThreshold?: number
  /** Part size of UploadPartCopy; default 512 MiB. */
  copyPartSize?: number
  /** Multipart uploads under `.tmp/` started longer ago than this are aborted at start; default a day. */
  staleUploadMs?: number
  /** Per-call time limit of `check()`; default 10 s. */
  checkTimeoutMs?: number
  /** Replaces the client built from the config (tests). */
  client?: S3Client
}

const MiB = 1024 * 1024
const HOUR = 3_600_000

function tempName(): string {
  return `${Date.now().toString(36)}-${randomBytes(12).toString('hex')}`
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404
}

function describe(err: unknown): string {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
  const name = (err as { name?: string } | null)?.name
  const message = messageOf(err)
  const label = name && name !== 'Error' && !message.startsWith(name) ? `${name}: ${message}` : message
  return status ? `${label} (HTTP ${status})` : label
}

/** Builds the SDK client for a backend config. */
export function createS3Client(config: S3BackendConfig): S3Client {
  const hasId = Boolean(config.access_key_id)
  const hasSecret = Boolean(config.secret_access_key)
  if (hasId !== hasSecret) throw new Error('storage: access_key_id and secret_access_key go together')
  const agent = { keepAlive: true, maxSockets: 256 }
  const options: S3ClientConfig = {
    region: config.region || 'us-east-1',
    forcePathStyle: config.force_path_style ?? false,
    // TOOLCHAIN §9: the default flexible checksums corrupt streamed uploads on S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, httpAgent: agent, httpsAgent: agent },
  }
  if (config.endpoint_url) options.endpoint = config.endpoint_url
  if (hasId) options.credentials = { accessKeyId: config.access_key_id!, secretAccessKey: config.secret_access_key! }
  return new S3Client(options)
}

export class S3Backend implements StorageBackend {
  readonly kind = 's3' as const
  readonly bucket: string
  /** Key prefix inside the bucket: empty, or ending with `/`. */
  readonly prefix: string
  readonly client: S3Client
  readonly partSize: number
  private readonly multipartCopyThreshold: number
  private readonly copyPartSize: number
  private readonly staleTempMs: number
  private readonly staleUploadMs: number
  private readonly checkTimeoutMs: number
  private readonly ownsClient: boolean
  private readonly where: string
  readonly log
  private sweeping: Promise<void> | undefined

  constructor(readonly name: string, config: S3BackendConfig, options: S3BackendOptions = {}) {
    if (!config.bucket) throw new Error(`storage backend "${name}": bucket is required`)
    this.bucket = config.bucket
    let prefix = (config.prefix ?? '').replace(/^\/+|\/+$/g, '')
    if (prefix) {
      validateKey(prefix)
      prefix += '/'
    }
    this.prefix = prefix
    this.partSize = Math.max(options.partSize ?? 8 * MiB, 5 * MiB)
    this.multipartCopyThreshold = options.multipartCopyThreshold ?? 5 * 1024 * MiB
    this.copyPartSize = Math.max(options.copyPartSize ?? 512 * MiB, 5 * MiB)
    this.staleTempMs = options.staleTempMs ?? HOUR
    this.staleUploadMs = options.staleUploadMs ?? 24 * HOUR
    this.checkTimeoutMs = options.checkTimeoutMs ?? 10_000
    this.log = options.log ?? silentLog
    this.ownsClient = !options.client
    this.client = options.client ?? createS3Client(config)
    this.where = `bucket "${this.bucket}"${config.endpoint_url ? ` at ${config.endpoint_url}` : ''}`
  }

  /** The bucket key of a storage key; validates it and keeps `.tmp/` private. */
  objectKey(key: string): string {
    validateKey(key)
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) throw new InputError(`invalid storage key "${key}": ${TEMP_DIR}/ is reserved`)
    return this.prefix + key
  }

  /** A fresh bucket key for temporary data. */
  tempKey(): string {
    return `${this.prefix}${TEMP_DIR}/${tempName()}`
  }

  async beginWrite(): Promise<PendingWrite> {
    this.sweeping ??= this.sweep().catch((err) => this.log.warn('cannot sweep temporary S3 objects', { backend: this.name, error: describe(err) }))
    return new S3PendingWrite(this)
  }

  /** Removes temporary objects and multipart uploads that a crashed process left behind. */
  private async sweep(): Promise<void> {
    const now = Date.now()
    let token: string | undefined
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}${TEMP_DIR}/`, ContinuationToken: token }))
      for (const object of page.Contents ?? []) {
        if (object.Key && object.LastModified && now - object.LastModified.getTime() > this.staleTempMs) {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }))
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    try {
      let keyMarker: string | undefined
      let idMarker: string | undefined
      do {
        const page = await this.client.send(new ListMultipartUploadsCommand({
          Bucket: this.bucket, Prefix: `${this.prefix}${TEMP_DIR}/`, KeyMarker: keyMarker, UploadIdMarker: idMarker,
        }))
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId && upload.Initiated && now - upload.Initiated.getTime() > this.staleUploadMs) {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }))
          }
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
        idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined
      } while (keyMarker)
    } catch (err) {
      // Some S3-compatible servers do not implement ListMultipartUploads.
      this.log.debug('cannot list multipart uploads', { backend: this.name, error: describe(err) })
    }
  }

  /** Server-side copy between bucket keys. */
  async copy(from: string, to: string, size: number): Promise<void> {
    const source = `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`
    if (size <= this.multipartCopyThreshold) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: source }))
      return
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }))
    try {
      const parts: CompletedPart[] = []
      for (let start = 0, n = 1; start < size; start += this.copyPartSize, n++) {
        const end = Math.min(start + this.copyPartSize, size) - 1
        const res = await this.client.send(new UploadPartCopyCommand({
          Bucket: this.bucket, Key: to, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}`,
        }))
        parts.push({ PartNumber: n, ETag: res.CopyPartResult?.ETag })
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }))
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId }))
        .catch((e) => this.log.warn('cannot abort a multipart copy', { backend: this.name, key: to, error: describe(e) }))
      throw err
    }
  }

  async read(key: string, range?: ByteRange): Promise<{ body: Readable; size: number } | null> {
    const Key = this.objectKey(key)
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
      }))
      const body = res.Body as Readable
      let size = res.ContentLength ?? 0
      if (range) {
        const total = /\/(\d+)$/.exec(res.ContentRange ?? '')
        if (!total) {
          body.destroy()
          throw new Error(`s3 storage "${this.name}": the server ignored the Range header`)
        }
        size = Number(total[1])
      }
      return { body, size }
    } catch (err) {
      if (isNotFound(err)) return null
      if ((err as { name?: string }).name === 'InvalidRange' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        const info = await this.stat(key)
        return info ? { body: Readable.from([]), size: info.size } : null
      }
      throw err
    }
  }

  async stat(key: string): Promise<{ size: number; mtime?: Date } | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }))
      return { size: res.ContentLength ?? 0, mtime: res.LastModified }
    } catch (err) {
      if (isNotFound(err)) return null
      throw err
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }))
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    validatePrefix(prefix)
    let token: string | undefined
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }))
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue
        const key = object.Key.slice(this.prefix.length)
        if (key.startsWith(`${TEMP_DIR}/`)) continue
        yield { key, size: object.Size ?? 0 }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async check(): Promise<void> {
    const Key = `${this.prefix}${TEMP_DIR}/healthz-${tempName()}`
    const data = randomBytes(16)
    const limit = () => ({ abortSignal: AbortSignal.timeout(this.checkTimeoutMs) })
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.length }), limit())
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }), limit())
      const back = Buffer.from(await res.Body!.transformToByteArray())
      if (!back.equals(data)) throw new Error('read back different bytes')
    } catch (err) {
      throw new Error(`s3 storage "${this.name}" (${this.where}): ${describe(err)}`, { cause: err })
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }), limit()).catch(() => {})
    }
  }

  async close(): Promise<void> {
    await this.sweeping
    if (this.ownsClient) this.client.destroy()
  }
}

class S3PendingWrite implements PendingWrite {
  size = 0
  private state: 'new' | 'writing' | 'written' | 'failed' | 'discarded' = 'new'
  private writing: Promise<number> | undefined
  /** The whole body, when it fitted in one part. */
  private buffer: Buffer | undefined
  /** The completed temporary object, when the body was larger. */
  private temp: string | undefined

  constructor(private readonly backend: S3Backend) {}

  write(source: AsyncIterable<Uint8Array>): Promise<number> {
    if (this.state !== 'new') throw new Error('PendingWrite.write() may only be called once')
    this.state = 'writing'
    this.writing = this.run(source)
    return this.writing
  }

  private async run(source: AsyncIterable<Uint8Array>): Promise<number> {
    const { client, bucket, partSize, log } = this.backend
    const Key = this.backend.tempKey()
    let chunks: Buffer[] = []
    let buffered = 0
    let UploadId: string | undefined
    const parts: CompletedPart[] = []
    const flush = async () => {
      const Body = Buffer.concat(chunks, buffered)
      chunks = []
      buffered = 0
      UploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }))).UploadId
      const PartNumber = parts.length + 1
      const res = await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber, Body, ContentLength: Body.length }))
      parts.push({ PartNumber, ETag: res.ETag })
    }
    try {
      for await (const chunk of source) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        chunks.push(buf)
        buffered += buf.length
        this.size += buf.length
        if (buffered >= partSize) await flush()
      }
      if (UploadId === undefined) {
        this.buffer = Buffer.concat(chunks, buffered)
      } else {
        if (buffered > 0) await flush()
        await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: parts } }))
        this.temp = Key
      }
      this.state = 'written'
      return this.size
    } catch (err) {
      this.state = 'failed'
      chunks = []
      if (UploadId !== undefined) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }))
          .catch((e) => log.warn('cannot abort a multipart upload', { backend: this.backend.name, key: Key, error: messageOf(e) }))
      }
      throw err
    }
  }

  async publish(key: string): Promise<void> {
    if (this.state !== 'written') throw new Error(`cannot publish a ${this.state} write`)
    const Key = this.backend.objectKey(key)
    if (this.buffer) {
      await this.backend.client.send(new PutObjectCommand({ Bucket: this.backend.bucket, Key, Body: this.buffer, ContentLength: this.buffer.length }))
    } else {
      await this.backend.copy(this.temp!, Key, this.size)
    }
  }

  async discard(): Promise<void> {
    if (this.state === 'discarded') return
    await this.writing?.catch(() => {})
    this.state = 'discarded'
    this.buffer = undefined
    const temp = this.temp
    this.temp = undefined
    if (temp) {
      await this.backend.client.send(new DeleteObjectCommand({ Bucket: this.backend.bucket, Key: temp }))
        .catch((e) => this.backend.log.warn('cannot delete a temporary object', { backend: this.backend.name, key: temp, error: messageOf(e) }))
    }
  }
}

registerS3({ S3Backend, createS3Client })
