/**
 * An in-process fake S3 for tests: s3rver 3.7.1 (a root devDependency) on 127.0.0.1, port 0, in
 * a temporary directory, with one bucket.
 *
 * s3rver does not implement AbortMultipartUpload, ListMultipartUploads or UploadPartCopy. A
 * small middleware in front of it adds them over s3rver's own upload folder, so that tests can
 * prove that a failed upload leaves no multipart upload behind, and exercise the multipart copy.
 *
 * Not exported from the storage index: only tests import it (s3rver is not a runtime dependency).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { TEMP_DIR, type StorageBackend } from './backend.ts'
import { FilesystemBackend } from './filesystem.ts'
import { S3Backend, type S3BackendConfig } from './s3.ts'

export interface FakeS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  readonly bucket: string
  /** s3rver's data directory. */
  readonly directory: string
  /** Backend config pointing at the fake (static credentials, path-style URLs). */
  readonly config: S3BackendConfig
  close(): Promise<void>
}

interface KoaLikeContext {
  method: string
  path: string
  query: Record<string, string | undefined>
  headers: Record<string, string | undefined>
  status: number
  body: unknown
  type: string
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Starts s3rver with the bucket `bucket` (default `test`). */
export async function startFakeS3(options: { bucket?: string } = {}): Promise<FakeS3> {
  const bucket = options.bucket ?? 'test'
  const directory = await mkdtemp(join(tmpdir(), 'bh-s3rver-'))
  const specifier = 's3rver' // untyped CommonJS package, loaded only here
  const { default: S3rver } = await import(specifier)
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] })
  const uploadsDir = (b: string) => join(directory, b, '._S3rver_uploads')

  server.middleware.unshift(async (ctx: KoaLikeContext, next: () => Promise<void>) => {
    const [, b, ...rest] = ctx.path.split('/')
    const key = rest.map(decodeURIComponent).join('/')
    if (!b) return next()
    // AbortMultipartUpload
    if (ctx.method === 'DELETE' && key && ctx.query.uploadId) {
      const dir = join(uploadsDir(b), ctx.query.uploadId.replace(/[^A-Za-z0-9]/g, ''))
      const found = await stat(dir).then(() => true, () => false)
      await rm(dir, { recursive: true, force: true })
      ctx.status = found ? 204 : 404
      ctx.body = found ? null : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>no such upload</Message></Error>'
      if (!found) ctx.type = 'application/xml'
      return
    }
    // ListMultipartUploads
    if (ctx.method === 'GET' && !key && ctx.query.uploads !== undefined) {
      const prefix = ctx.query.prefix ?? ''
      const uploads: string[] = []
      for (const id of await readdir(uploadsDir(b)).catch(() => [] as string[])) {
        const keyFile = join(uploadsDir(b), id, 'key')
        const k = await readFile(keyFile, 'utf8').catch(() => null)
        if (k === null || !k.startsWith(prefix)) continue
        const initiated = (await stat(keyFile)).mtime.toISOString()
        uploads.push(`<Upload><Key>${xml(k)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`)
      }
      ctx.type = 'application/xml'
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${xml(b)}</Bucket>`
        + `<Prefix>${xml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`
      return
    }
    // UploadPartCopy
    if (ctx.method === 'PUT' && key && ctx.query.uploadId && ctx.query.partNumber && ctx.headers['x-amz-copy-source']) {
      const source = decodeURIComponent(ctx.headers['x-amz-copy-source']).replace(/^\//, '')
      const slash = source.indexOf('/')
      const file = server.store.getResourcePath(source.slice(0, slash), source.slice(slash + 1), 'object') as string
      const range = /bytes=(\d+)-(\d+)/.exec(ctx.headers['x-amz-copy-source-range'] ?? '')
      const chunks: Buffer[] = []
      for await (const chunk of createReadStream(file, range ? { start: Number(range[1]), end: Number(range[2]) } : {})) chunks.push(chunk as Buffer)
      const data = Buffer.concat(chunks)
      const md5 = createHash('md5').update(data).digest('hex')
      const dir = join(uploadsDir(b), ctx.query.uploadId.replace(/[^A-Za-z0-9]/g, ''))
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, String(Number(ctx.query.partNumber))), data)
      await writeFile(join(dir, `${Number(ctx.query.partNumber)}.md5`), md5)
      ctx.type = 'application/xml'
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>"${md5}"</ETag>`
        + `<LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`
      return
    }
    return next()
  })

  const address = await server.run()
  const endpoint = `http://127.0.0.1:${address.port}`
  return {
    endpoint,
    bucket,
    directory,
    config: {
      type: 's3', bucket, region: 'us-east-1', endpoint_url: endpoint, force_path_style: true,
      access_key_id: 'S3RVER', secret_access_key: 'S3RVER',
    },
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/**
 * Temporary data a backend still holds: files in `.tmp/` (filesystem), objects under `.tmp/` and
 * multipart uploads in progress (S3). Empty after every completed or failed write.
 */
export async function leftovers(backend: StorageBackend): Promise<{ temp: string[]; uploads: string[] }> {
  if (backend instanceof FilesystemBackend) {
    return { temp: await readdir(backend.tempDir).catch(() => [] as string[]), uploads: [] }
  }
  if (backend instanceof S3Backend) {
    const objects = await backend.client.send(new ListObjectsV2Command({ Bucket: backend.bucket, Prefix: `${backend.prefix}${TEMP_DIR}/` }))
    const uploads = await backend.client.send(new ListMultipartUploadsCommand({ Bucket: backend.bucket }))
    return {
      temp: (objects.Contents ?? []).map((o) => o.Key ?? ''),
      uploads: (uploads.Uploads ?? []).map((u) => u.Key ?? ''),
    }
  }
  throw new Error(`leftovers: unknown backend ${backend.kind}`)
}

/** A body that yields `bytes` bytes in 1 KiB chunks and then fails with `error`. */
export function failingBody(bytes: number, error: Error = new Error('connection reset by peer')): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.destroy(error)
        return
      }
      const n = Math.min(1024, bytes - sent)
      sent += n
      this.push(Buffer.alloc(n, 0x61))
    },
  })
}
