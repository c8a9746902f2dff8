/**
 * Inspection of a published npm tarball: a real gzip-compressed tar whose entries all live under
 * `package/`, with `package/package.json` naming the package.
 *
 * Entry checks (absolute names, `..`, links, devices, duplicates, entry counts and sizes) are the
 * kernel's archive service; this module inflates the gzip layer itself so that EVERY inflated byte
 * counts against the limit, including the entries it never reads (a gzip bomb made of many large,
 * unread files is stopped while inflating).
 */
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { InputError, type ArchiveService } from '@batlehub/sdk'

/** Bounds applied while reading a tarball. */
export interface TarballLimits {
  /** Largest total of inflated bytes (tar headers included). */
  readonly maxUnpackedBytes: number
  /** Largest number of tar entries. */
  readonly maxEntries: number
  /** Largest `package/package.json`. */
  readonly maxManifestBytes: number
}

export const DEFAULT_TARBALL_LIMITS: TarballLimits = Object.freeze({
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxEntries: 100_000,
  maxManifestBytes: 1024 * 1024,
})

/** What a valid tarball holds. */
export interface TarballInfo {
  /** The parsed `package/package.json`. */
  readonly manifest: Record<string, any>
  /** Number of regular files. */
  readonly fileCount: number
  /** Sum of regular file sizes (npm's `dist.unpackedSize`). */
  readonly unpackedSize: number
}

class InflateLimit extends Transform {
  private seen = 0
  private readonly limit: number
  constructor(limit: number) {
    super()
    this.limit = limit
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen > this.limit) cb(new InputError(`the tarball unpacks to more than ${this.limit} bytes`))
    else cb(null, chunk)
  }
}

function isBatleHubError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('BH_')
}

/**
 * Reads a tarball and returns its manifest and sizes; throws `InputError` with the reason when it
 * is not a well-formed npm package tarball.
 */
export async function inspectTarball(archives: ArchiveService, data: Buffer, limits: TarballLimits = DEFAULT_TARBALL_LIMITS): Promise<TarballInfo> {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) throw new InputError('the tarball is not gzip-compressed')
  const gunzip = createGunzip()
  const limit = new InflateLimit(limits.maxUnpackedBytes)
  const source = Readable.from([data])
  // Errors of the gzip layer reach the tar reader through the stream it consumes.
  gunzip.on('error', (err) => limit.destroy(isBatleHubError(err) ? err : new InputError(`the tarball is corrupt: ${err.message}`)))
  source.pipe(gunzip).pipe(limit)

  let fileCount = 0
  let unpackedSize = 0
  let manifestBytes: Buffer | undefined
  try {
    await archives.tar(limit, { gzip: false, requirePrefix: 'package/', maxEntries: limits.maxEntries, maxTotalBytes: limits.maxUnpackedBytes, maxEntryBytes: limits.maxUnpackedBytes }, async (entry, read) => {
      if (entry.type !== 'file') return
      fileCount++
      unpackedSize += entry.size
      if (entry.name === 'package/package.json') {
        if (entry.size > limits.maxManifestBytes) throw new InputError(`package/package.json is larger than ${limits.maxManifestBytes} bytes`)
        manifestBytes = await read()
      }
    })
  } catch (err) {
    if (isBatleHubError(err)) throw err
    throw new InputError(`the tarball is corrupt: ${(err as Error).message}`)
  } finally {
    gunzip.destroy()
  }
  if (manifestBytes === undefined) throw new InputError('the tarball has no package/package.json')
  let manifest: unknown
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8').replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new InputError(`package/package.json in the tarball is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new InputError('package/package.json in the tarball is not a JSON object')
  return { manifest: manifest as Record<string, any>, fileCount, unpackedSize }
}
