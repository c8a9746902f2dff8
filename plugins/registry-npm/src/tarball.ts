/**
 * Inspection of a published npm tarball: a real gzip-compressed tar whose entries all live under
 * `package/`, with `package/package.json` naming the package. Hostile archives are refused: entries
 * or links escaping `package/`, device files, more entries or unpacked bytes than allowed (gzip
 * bombs are stopped while inflating, not after).
 */
import { posix } from 'node:path'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { extract as tarExtract } from 'tar-stream'
import { InputError } from '@batlehub/sdk'

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
    if (this.seen > this.limit) cb(new InputError(`tarball unpacks to more than ${this.limit} bytes`))
    else cb(null, chunk)
  }
}

/** The normalised path of an entry, or an error message when it is not inside `package/`. */
export function entryPath(raw: string): string | { problem: string } {
  if (raw.includes('\0') || raw.includes('\\')) return { problem: `tarball entry ${JSON.stringify(raw)} has an invalid name` }
  if (raw.startsWith('/')) return { problem: `tarball entry ${JSON.stringify(raw)} is an absolute path` }
  const parts = raw.split('/')
  if (parts.includes('..')) return { problem: `tarball entry ${JSON.stringify(raw)} escapes package/` }
  const normal = posix.normalize(raw).replace(/\/+$/, '')
  if (normal !== 'package' && !normal.startsWith('package/')) return { problem: `tarball entry ${JSON.stringify(raw)} is outside package/` }
  return normal
}

/** Whether a link target stays inside `package/` (symlinks resolve from their directory, hard links from the root). */
export function linkInside(entry: string, linkname: string, hard: boolean): boolean {
  if (!linkname || linkname.startsWith('/') || linkname.includes('\0') || linkname.includes('\\')) return false
  const target = posix.normalize(hard ? linkname : posix.join(posix.dirname(entry), linkname))
  return target === 'package' || target.startsWith('package/')
}

/**
 * Reads a tarball and returns its manifest and sizes; throws `InputError` with the reason when it
 * is not a well-formed npm package tarball.
 */
export async function inspectTarball(data: Buffer, limits: TarballLimits = DEFAULT_TARBALL_LIMITS): Promise<TarballInfo> {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) throw new InputError('the tarball is not gzip-compressed')
  const gunzip = createGunzip()
  const limit = new InflateLimit(limits.maxUnpackedBytes)
  const extract = tarExtract()
  const fail = (err: Error) => {
    extract.destroy((err as { code?: string }).code?.startsWith('BH_') ? err : new InputError(`the tarball is corrupt: ${err.message}`))
  }
  gunzip.on('error', fail)
  limit.on('error', fail)
  Readable.from([data]).pipe(gunzip).pipe(limit).pipe(extract as any)

  let entries = 0
  let fileCount = 0
  let unpackedSize = 0
  let manifestText: string | undefined
  try {
    for await (const entry of extract) {
      const h = entry.header
      if (++entries > limits.maxEntries) throw new InputError(`the tarball has more than ${limits.maxEntries} entries`)
      const path = entryPath(h.name)
      if (typeof path !== 'string') throw new InputError(path.problem)
      switch (h.type) {
        case 'file':
        case 'contiguous-file':
          fileCount++
          unpackedSize += h.size
          break
        case 'directory':
          break
        case 'symlink':
        case 'link':
          if (!linkInside(path, h.linkname, h.type === 'link')) {
            throw new InputError(`tarball entry ${JSON.stringify(h.name)} links outside package/ (${JSON.stringify(h.linkname)})`)
          }
          break
        default:
          throw new InputError(`tarball entry ${JSON.stringify(h.name)} is a ${h.type}, which packages may not contain`)
      }
      if (unpackedSize > limits.maxUnpackedBytes) throw new InputError(`the tarball unpacks to more than ${limits.maxUnpackedBytes} bytes`)
      if (path === 'package/package.json' && (h.type === 'file' || h.type === 'contiguous-file')) {
        if (manifestText !== undefined) throw new InputError('the tarball holds package/package.json twice')
        if (h.size > limits.maxManifestBytes) throw new InputError(`package/package.json is larger than ${limits.maxManifestBytes} bytes`)
        const chunks: Buffer[] = []
        for await (const c of entry) chunks.push(c as Buffer)
        manifestText = Buffer.concat(chunks).toString('utf8')
      } else if (path === 'package/package.json') {
        throw new InputError('package/package.json in the tarball is not a regular file')
      } else {
        entry.resume()
      }
    }
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('BH_')) throw err
    throw new InputError(`the tarball is corrupt: ${(err as Error).message}`)
  } finally {
    gunzip.destroy()
  }
  if (manifestText === undefined) throw new InputError('the tarball has no package/package.json')
  let manifest: unknown
  try {
    manifest = JSON.parse(manifestText.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new InputError(`package/package.json in the tarball is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new InputError('package/package.json in the tarball is not a JSON object')
  return { manifest: manifest as Record<string, any>, fileCount, unpackedSize }
}
