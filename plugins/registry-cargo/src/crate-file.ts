/**
 * Inspection of a published `.crate` while it streams to storage: it must be a gzip-compressed
 * tar whose entries are all regular files (or directories) under `{name}-{version}/`, with no
 * absolute paths, `..`, links or devices, within the size limits, and whose `Cargo.toml` names
 * the same crate and version as the publish metadata.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { createGunzip, type Gunzip } from 'node:zlib'
import { parse as parseToml } from 'smol-toml'
import { CARGO_ERRORS, CargoError } from './errors.ts'
import { TarReader, TarFormatError, type TarEntry } from './tar.ts'

/** Limits and expectations for one `.crate`. */
export interface CrateExpectations {
  name: string
  version: string
  maxUnpackedBytes: number
  maxEntries: number
}

/** What the inspection found. */
export interface CrateFacts {
  /** The parsed `Cargo.toml` of the crate. */
  manifest: Record<string, unknown>
  entries: number
  unpackedBytes: number
}

// The normalized manifest cargo writes is a few KiB; anything near this is not a manifest.
const MAX_MANIFEST_BYTES = 1024 * 1024

const badCrate = (message: string): CargoError => new CargoError(CARGO_ERRORS.BAD_CRATE, message)

/** Why an entry path may not be in the crate, or null when it may. */
export function entryPathProblem(path: string, root: string): string | null {
  if (path.includes('\0')) return 'contains a NUL character'
  // A backslash is a separator on Windows, where cargo unpacks crates too.
  if (path.includes('\\')) return 'contains a backslash'
  if (path.startsWith('/')) return 'is absolute'
  if (/^[A-Za-z]:/.test(path)) return 'is absolute'
  const segments = path.replace(/\/+$/, '').split('/')
  if (segments.some((s) => s === '..')) return 'escapes the crate directory'
  if (segments.some((s) => s === '' || s === '.')) return 'is not a normalised path'
  if (segments[0] !== root) return `is not under ${root}/`
  return null
}

/**
 * A pass-through stream that inspects the `.crate` flowing through it. Errors surface before the
 * stream ends (the verdict is given in `_flush`), so a consumer that commits on end never commits
 * a refused crate.
 */
export class CrateInspector extends Transform {
  private readonly gunzip: Gunzip
  private readonly tar: TarReader
  private readonly root: string
  private readonly manifestPath: string
  private manifestChunks: Buffer[] = []
  private manifestBytes = 0
  private manifestSeen = false
  private unpacked = 0
  private problem?: Error
  private gunzipDone: Promise<void>
  /** Set once the crate passed every check. */
  facts?: CrateFacts

  private readonly expect: CrateExpectations

  constructor(expect: CrateExpectations) {
    super()
    this.expect = expect
    this.root = `${expect.name}-${expect.version}`
    this.manifestPath = `${this.root}/Cargo.toml`
    this.tar = new TarReader({
      onEntry: (entry) => this.onEntry(entry),
      onData: (_entry, chunk) => {
        this.manifestBytes += chunk.length
        if (this.manifestBytes > MAX_MANIFEST_BYTES) throw badCrate('Cargo.toml in the .crate is larger than 1 MiB')
        this.manifestChunks.push(Buffer.from(chunk))
      },
    })
    this.gunzip = createGunzip()
    this.gunzip.on('data', (chunk: Buffer) => {
      if (this.problem) return
      this.unpacked += chunk.length
      try {
        if (this.unpacked > this.expect.maxUnpackedBytes) {
          throw badCrate(`the .crate unpacks to more than ${this.expect.maxUnpackedBytes} bytes`)
        }
        this.tar.write(chunk)
      } catch (err) {
        this.fail(err)
      }
    })
    this.gunzipDone = new Promise<void>((resolve) => {
      this.gunzip.once('end', () => resolve())
      this.gunzip.once('close', () => resolve())
      this.gunzip.once('error', (err) => {
        this.fail(badCrate(`the .crate is not a valid gzip file: ${err.message}`))
        resolve()
      })
    })
  }

  /** The first problem found, if any (kept for callers whose consumer replaces the error). */
  get error(): Error | undefined {
    return this.problem
  }

  private fail(err: unknown): void {
    if (this.problem) return
    this.problem = err instanceof TarFormatError
      ? badCrate(`the .crate is not a valid tar archive: ${err.message}`)
      : (err as Error)
    // Stop inflating: a bomb must not keep the CPU busy once refused.
    this.gunzip.destroy()
  }

  private onEntry(entry: TarEntry): boolean {
    if (this.tar.entries > this.expect.maxEntries) throw badCrate(`the .crate has more than ${this.expect.maxEntries} entries`)
    const problem = entryPathProblem(entry.path, this.root)
    if (problem) throw badCrate(`invalid .crate: entry ${JSON.stringify(entry.path.slice(0, 200))} ${problem}`)
    if (entry.type !== 'file' && entry.type !== 'directory') {
      throw badCrate(`invalid .crate: entry ${JSON.stringify(entry.path.slice(0, 200))} is a ${entry.type === 'other' ? `special file (type ${JSON.stringify(entry.flag)})` : entry.type}; only files and directories are allowed`)
    }
    if (entry.path === this.manifestPath) {
      if (entry.type !== 'file') throw badCrate('Cargo.toml in the .crate is not a file')
      if (this.manifestSeen) throw badCrate('the .crate contains Cargo.toml twice')
      this.manifestSeen = true
      return true
    }
    return false
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.problem) return cb(this.problem)
    // Respect the inflater's back-pressure so that memory stays bounded by a few chunks.
    if (this.gunzip.write(chunk)) return cb(null, chunk)
    const go = () => {
      this.gunzip.off('drain', go)
      this.gunzip.off('close', go)
      cb(this.problem ?? null, this.problem ? undefined : chunk)
    }
    this.gunzip.on('drain', go)
    this.gunzip.on('close', go)
  }

  override _flush(cb: TransformCallback): void {
    if (this.problem) return cb(this.problem)
    this.gunzip.end()
    this.gunzipDone.then(() => {
      try {
        if (this.problem) throw this.problem
        this.tar.end()
        this.facts = this.verdict()
        cb()
      } catch (err) {
        this.fail(err)
        cb(this.problem)
      }
    })
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.gunzip.destroy()
    cb(err)
  }

  private verdict(): CrateFacts {
    if (!this.manifestSeen) throw badCrate(`invalid .crate: ${this.manifestPath} is missing`)
    let manifest: Record<string, unknown>
    try {
      manifest = parseToml(Buffer.concat(this.manifestChunks).toString('utf8')) as Record<string, unknown>
    } catch (err) {
      throw badCrate(`Cargo.toml in the .crate is not valid TOML: ${(err as Error).message.split('\n')[0]}`)
    }
    const pkg = (manifest.package ?? manifest.project) as Record<string, unknown> | undefined
    if (!pkg || typeof pkg !== 'object') throw badCrate('Cargo.toml in the .crate has no [package] table')
    if (pkg.name !== this.expect.name) {
      throw badCrate(`the .crate's Cargo.toml names crate ${JSON.stringify(pkg.name)}, but the publish metadata names ${JSON.stringify(this.expect.name)}`)
    }
    if (pkg.version !== this.expect.version) {
      throw badCrate(`the .crate's Cargo.toml has version ${JSON.stringify(pkg.version)}, but the publish metadata has ${JSON.stringify(this.expect.version)}`)
    }
    return { manifest, entries: this.tar.entries, unpackedBytes: this.unpacked }
  }
}
