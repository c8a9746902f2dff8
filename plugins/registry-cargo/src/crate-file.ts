/**
 * Inspection of a published `.crate` while it streams to storage: it must be a gzip-compressed
 * tar whose entries are all regular files (or directories) under `{name}-{version}/` — no absolute
 * paths, `..`, links or devices, within the size limits (the kernel's archive reader checks those)
 * — and whose `Cargo.toml` names the same crate and version as the publish metadata.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream'
import { parse as parseToml } from 'smol-toml'
import { BatleHubError, type ArchiveService } from '@batlehub/sdk'
import { CARGO_ERRORS, CargoError } from './errors.ts'

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
}

// The normalized manifest cargo writes is a few KiB; anything near this is not a manifest.
const MAX_MANIFEST_BYTES = 1024 * 1024

const badCrate = (message: string): CargoError => new CargoError(CARGO_ERRORS.BAD_CRATE, message)

/** Re-labels the archive reader's refusals as `.crate` problems, keeping their status. */
function crateError(err: unknown): Error {
  const e = err as { code?: unknown; status?: number; message?: string }
  if (e instanceof CargoError || (typeof e?.code === 'string' && e.code.startsWith('BH_CARGO_'))) return err as Error
  const message = `invalid .crate: ${e?.message ?? String(err)}`
  if (e?.code === 'BH_TOO_LARGE') return new BatleHubError('BH_TOO_LARGE', message, 413)
  return badCrate(message)
}

/**
 * A pass-through stream that inspects the `.crate` flowing through it with the kernel's archive
 * reader. The verdict is given in `_flush`, before the stream ends, so a consumer that commits on
 * end never commits a refused crate.
 */
export class CrateInspector extends Transform {
  private readonly feed = new PassThrough()
  private readonly verdict: Promise<CrateFacts>
  private problem?: Error
  private waiting?: () => void
  /** Set once the crate passed every check. */
  facts?: CrateFacts

  constructor(archives: ArchiveService, expect: CrateExpectations) {
    super()
    const root = `${expect.name}-${expect.version}`
    const manifestPath = `${root}/Cargo.toml`
    // The archive reader destroys the feed when it refuses the archive; writes after that only
    // report what the verdict already says.
    this.feed.on('error', () => {})
    let manifest: Buffer | undefined
    let entries = 0
    const limits = {
      gzip: true,
      requirePrefix: `${root}/`,
      maxEntries: expect.maxEntries,
      maxTotalBytes: expect.maxUnpackedBytes,
      maxEntryBytes: expect.maxUnpackedBytes,
    }
    this.verdict = archives
      .tar(this.feed, limits, async (entry, read) => {
        entries++
        if (entry.name === manifestPath) {
          if (entry.type !== 'file') throw badCrate('invalid .crate: Cargo.toml is not a file')
          if (entry.size > MAX_MANIFEST_BYTES) throw badCrate('invalid .crate: Cargo.toml is larger than 1 MiB')
          manifest = await read()
        }
      })
      .then(() => {
        if (!manifest) throw badCrate(`invalid .crate: ${manifestPath} is missing`)
        return { manifest: checkManifest(manifest, expect), entries }
      })
      .catch((err: unknown) => {
        const e = crateError(err)
        this.problem ??= e
        // A writer waiting for the feed to drain would wait forever once the reader gave up.
        this.waiting?.()
        throw e
      })
    // The verdict is awaited in _flush; until then a rejection must not count as unhandled.
    this.verdict.catch(() => {})
  }

  /** The first problem found, if any (for callers whose consumer replaces the error). */
  get error(): Error | undefined {
    return this.problem
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.problem) return cb(this.problem)
    // Respect the reader's back-pressure so that memory stays bounded by a few chunks.
    if (this.feed.write(chunk)) return cb(null, chunk)
    const go = () => {
      this.waiting = undefined
      this.feed.off('drain', go)
      cb(this.problem ?? null, this.problem ? undefined : chunk)
    }
    this.waiting = go
    this.feed.on('drain', go)
  }

  override _flush(cb: TransformCallback): void {
    if (this.problem) return cb(this.problem)
    this.feed.end()
    this.verdict.then(
      (facts) => {
        this.facts = facts
        cb()
      },
      (err: Error) => cb(err),
    )
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.feed.destroy()
    cb(err)
  }
}

function checkManifest(bytes: Buffer, expect: CrateExpectations): Record<string, unknown> {
  let manifest: Record<string, unknown>
  try {
    manifest = parseToml(bytes.toString('utf8')) as Record<string, unknown>
  } catch (err) {
    throw badCrate(`invalid .crate: Cargo.toml is not valid TOML: ${(err as Error).message.split('\n')[0]}`)
  }
  const pkg = (manifest.package ?? manifest.project) as Record<string, unknown> | undefined
  if (!pkg || typeof pkg !== 'object') throw badCrate('invalid .crate: Cargo.toml has no [package] table')
  if (pkg.name !== expect.name) {
    throw badCrate(`the .crate's Cargo.toml names crate ${JSON.stringify(pkg.name)}, but the publish metadata names ${JSON.stringify(expect.name)}`)
  }
  if (pkg.version !== expect.version) {
    throw badCrate(`the .crate's Cargo.toml has version ${JSON.stringify(pkg.version)}, but the publish metadata has ${JSON.stringify(expect.version)}`)
  }
  return manifest
}
