/**
 * Safe archive reading (zip via yauzl, tar via tar-stream) and temporary spool files, shared by every
 * registry plugin that inspects uploads or artifacts (wheels, jars, module zips, crates, tarballs).
 *
 * Hostile input is refused before it costs memory or disk: absolute names, `..`, backslashes, NUL,
 * duplicate names, links and device entries, more entries or more uncompressed bytes than allowed
 * (counted while inflating, so a lying header does not help a zip bomb).
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import yauzl from 'yauzl'
import tarStream from 'tar-stream'
import { InputError, PayloadTooLargeError, type ArchiveEntry, type ArchiveLimits, type ArchiveService, type SpooledFile } from '@batlehub/sdk'

const DEFAULTS = { maxEntries: 10_000, maxTotalBytes: 1024 * 1024 * 1024, maxEntryBytes: 256 * 1024 * 1024 }

type Visit = (entry: ArchiveEntry, read: () => Promise<Buffer>) => Promise<void | 'stop'> | void | 'stop'

/** Checks and normalises an entry name. Throws InputError naming the problem. */
export function checkEntryName(raw: string): { name: string; directory: boolean } {
  if (typeof raw !== 'string' || raw.length === 0) throw new InputError('archive entry with an empty name')
  if (raw.includes('\0')) throw new InputError('archive entry name contains NUL')
  if (raw.includes('\\')) throw new InputError(`archive entry ${JSON.stringify(raw)} contains a backslash`)
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new InputError(`archive entry ${JSON.stringify(raw)} is an absolute path`)
  const directory = raw.endsWith('/')
  const parts = raw.split('/').filter((p, i, all) => !(p === '.' && i === 0) && !(p === '' && i === all.length - 1))
  for (const p of parts) {
    if (p === '..') throw new InputError(`archive entry ${JSON.stringify(raw)} escapes the archive (..)`)
    if (p === '' || p === '.') throw new InputError(`archive entry ${JSON.stringify(raw)} has an empty or "." path segment`)
  }
  if (parts.length === 0) throw new InputError(`archive entry ${JSON.stringify(raw)} has no name`)
  return { name: parts.join('/') + (directory ? '/' : ''), directory }
}

class Budget {
  entries = 0
  total = 0
  declared = 0
  readonly names = new Set<string>()
  constructor(readonly limits: Required<Omit<ArchiveLimits, 'requirePrefix'>> & { requirePrefix?: string }) {}
  enter(raw: string): { name: string; directory: boolean } {
    const checked = checkEntryName(raw)
    if (++this.entries > this.limits.maxEntries) throw new PayloadTooLargeError(`archive has more than ${this.limits.maxEntries} entries`)
    if (this.names.has(checked.name)) throw new InputError(`archive has a duplicate entry ${JSON.stringify(checked.name)}`)
    this.names.add(checked.name)
    const prefix = this.limits.requirePrefix
    if (prefix && !checked.name.startsWith(prefix) && checked.name !== prefix.replace(/\/$/, '') + '/') {
      throw new InputError(`archive entry ${JSON.stringify(checked.name)} is not under ${JSON.stringify(prefix)}`)
    }
    return checked
  }
  /**
   * Adds an entry's declared size: entries a caller never reads still count toward the archive's
   * uncompressed size (what the archive will cost whoever extracts it).
   */
  declare(name: string, size: number): void {
    if (size > this.limits.maxEntryBytes) throw new PayloadTooLargeError(`archive entry ${JSON.stringify(name)} expands past ${this.limits.maxEntryBytes} bytes`)
    this.declared += size
    if (this.declared > this.limits.maxTotalBytes) throw new PayloadTooLargeError(`archive expands past ${this.limits.maxTotalBytes} bytes`)
  }
  /** A stream that counts entry and total bytes. */
  counter(name: string): Transform {
    let entryBytes = 0
    const budget = this
    return new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        entryBytes += chunk.length
        budget.total += chunk.length
        if (entryBytes > budget.limits.maxEntryBytes) return cb(new PayloadTooLargeError(`archive entry ${JSON.stringify(name)} expands past ${budget.limits.maxEntryBytes} bytes`))
        if (budget.total > budget.limits.maxTotalBytes) return cb(new PayloadTooLargeError(`archive expands past ${budget.limits.maxTotalBytes} bytes`))
        cb(null, chunk)
      },
    })
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function limitsOf(l: ArchiveLimits): Budget['limits'] {
  return {
    maxEntries: l.maxEntries ?? DEFAULTS.maxEntries,
    maxTotalBytes: l.maxTotalBytes ?? DEFAULTS.maxTotalBytes,
    maxEntryBytes: l.maxEntryBytes ?? DEFAULTS.maxEntryBytes,
    requirePrefix: l.requirePrefix,
  }
}

export function readZip(path: string, limits: ArchiveLimits, visit: Visit): Promise<void> {
  const budget = new Budget(limitsOf(limits))
  return new Promise<void>((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: true }, (err, zip) => {
      if (err || !zip) return reject(new InputError(`not a valid zip archive: ${err?.message ?? 'unreadable'}`))
      let settled = false
      const fail = (e: unknown) => {
        if (settled) return
        settled = true
        zip.close()
        const message = (e as Error)?.message ?? String(e)
        if (e instanceof Error && 'code' in e && String((e as { code?: string }).code).startsWith('BH_')) reject(e)
        // yauzl checks names itself before emitting an entry.
        else if (/invalid relative path|absolute path|invalid characters in fileName/.test(message)) reject(new InputError(`archive entry escapes the archive (${message})`))
        else reject(new InputError(`not a valid zip archive: ${message}`))
      }
      if (zip.entryCount > budget.limits.maxEntries) return fail(new PayloadTooLargeError(`archive has more than ${budget.limits.maxEntries} entries`))
      zip.on('error', fail)
      zip.on('end', () => {
        if (!settled) {
          settled = true
          resolve()
        }
      })
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const checked = budget.enter(entry.fileName)
          // Unix mode in the high 16 bits of the external attributes: refuse links and devices.
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000
          if (mode !== 0 && mode !== 0o100000 && mode !== 0o040000) {
            throw new InputError(`archive entry ${JSON.stringify(checked.name)} is a link or special file`)
          }
          if (!checked.directory) budget.declare(checked.name, entry.uncompressedSize)
          const read = () =>
            new Promise<Buffer>((res, rej) => {
              zip.openReadStream(entry, (e, stream) => {
                if (e || !stream) return rej(new InputError(`cannot read ${checked.name}: ${e?.message}`))
                const counter = budget.counter(checked.name)
                collect(stream.pipe(counter)).then(res, rej)
                stream.on('error', (se) => counter.destroy(se))
              })
            })
          const verdict = await visit({ name: checked.name, type: checked.directory ? 'directory' : 'file', size: entry.uncompressedSize }, read)
          if (verdict === 'stop') {
            settled = true
            zip.close()
            resolve()
            return
          }
          zip.readEntry()
        })().catch(fail)
      })
      zip.readEntry()
    })
  })
}

export async function readTar(source: Readable | Buffer, limits: ArchiveLimits & { gzip?: boolean }, visit: Visit): Promise<void> {
  const budget = new Budget(limitsOf(limits))
  const extract = tarStream.extract()
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source
  let stopped = false
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header
      if (stopped) {
        entry.resume()
        continue
      }
      if (h.type !== 'file' && h.type !== 'directory' && h.type !== 'contiguous-file') {
        throw new InputError(`archive entry ${JSON.stringify(h.name)} is a ${h.type} (links and special files are refused)`)
      }
      const checked = budget.enter(h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name)
      if ((h.size ?? 0) > budget.limits.maxEntryBytes) {
        throw new PayloadTooLargeError(`archive entry ${JSON.stringify(checked.name)} is larger than ${budget.limits.maxEntryBytes} bytes`)
      }
      budget.declare(checked.name, h.size ?? 0)
      let consumed = false
      const read = async () => {
        consumed = true
        return collect(entry.pipe(budget.counter(checked.name)))
      }
      const verdict = await visit({ name: checked.name, type: checked.directory ? 'directory' : 'file', size: h.size ?? 0 }, read)
      if (!consumed) entry.resume()
      if (verdict === 'stop') stopped = true
    }
  })()
  const feed = limits.gzip
    ? pipeline(input, createGunzip(), extract)
    : pipeline(input, extract)
  try {
    await Promise.all([feed, done])
  } catch (err) {
    extract.destroy()
    input.destroy?.()
    const e = err as { code?: string; message?: string }
    if (typeof e?.code === 'string' && e.code.startsWith('BH_')) throw err
    throw new InputError(`not a valid ${limits.gzip ? 'gzip-compressed ' : ''}tar archive: ${e?.message ?? err}`)
  }
}

class Hasher extends Transform {
  readonly h = { sha256: createHash('sha256'), sha1: createHash('sha1'), md5: createHash('md5'), sha512: createHash('sha512') }
  size = 0
  constructor(private readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length
    if (this.size > this.limit) return cb(new PayloadTooLargeError(`body exceeds ${this.limit} bytes`))
    for (const h of Object.values(this.h)) h.update(chunk)
    cb(null, chunk)
  }
}

/** Writes a stream to `<dir>/<random>` with its digests; removes the file on failure. */
export async function spoolTo(dir: string, source: Readable | Buffer, limit = Number.MAX_SAFE_INTEGER): Promise<SpooledFile> {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `upload-${randomBytes(12).toString('hex')}`)
  const hasher = new Hasher(limit)
  try {
    await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, hasher, createWriteStream(path, { flags: 'wx', mode: 0o600 }))
  } catch (err) {
    await rm(path, { force: true })
    throw err
  }
  let removed = false
  return {
    path,
    size: hasher.size,
    sha256: hasher.h.sha256.digest('hex'),
    sha1: hasher.h.sha1.digest('hex'),
    md5: hasher.h.md5.digest('hex'),
    sha512: hasher.h.sha512.digest('hex'),
    async cleanup() {
      if (removed) return
      removed = true
      await rm(path, { force: true })
    },
  }
}

/** The SDK's ArchiveService over a spool directory. */
export function createArchiveService(spoolDir: string): ArchiveService {
  return Object.freeze({
    zip: (path: string, limits: ArchiveLimits, visit: Visit) => readZip(path, limits, visit),
    tar: (source: Readable | Buffer, limits: ArchiveLimits & { gzip?: boolean }, visit: Visit) => readTar(source, limits, visit),
    spool: (source: Readable | Buffer, limit?: number) => spoolTo(spoolDir, source, limit),
  })
}

/** Opens a spooled file for reading (re-exported for callers that publish it). */
export function openSpooled(file: SpooledFile): Readable {
  return createReadStream(file.path)
}
