/**
 * Filesystem backend: one object per file under a root directory.
 *
 * Writes stream into `<root>/.tmp/<random>`, are fsynced, and are published by hard-linking the
 * temporary file to a second temporary name and renaming that over the destination (rename is
 * atomic on POSIX filesystems; a reader sees the old file or the new one, never a mix). The parent
 * directory is fsynced after the rename so a published object survives a power cut. Filesystems
 * without hard links get a copy instead of the link. Temporary files idle for more than an hour
 * are swept when the backend starts (a crashed process may leave them).
 */
import { constants } from 'node:fs'
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { InputError } from '@batlehub/sdk'
import { validateKey, validatePrefix } from './keys.ts'
import {
  clampRange, messageOf, silentLog, TEMP_DIR,
  type BackendOptions, type ByteRange, type PendingWrite, type StorageBackend,
} from './backend.ts'

/** `[storage]` / `[[storage.backends]]` entry of type `filesystem`. */
export interface FilesystemBackendConfig {
  type: 'filesystem'
  /** Root directory; created when missing. */
  path: string
}

const HOUR = 3_600_000
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS'])

function errno(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code
}

function tempName(): string {
  return `${Date.now().toString(36)}-${randomBytes(12).toString('hex')}`
}

/** fsync of a directory, so that a rename in it is durable. Not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(dir, constants.O_RDONLY)
    await fh.sync()
  } catch (err) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes(errno(err) ?? '')) throw err
  } finally {
    await fh?.close()
  }
}

/** fsync of a file's data before it is published. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDWR)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export class FilesystemBackend implements StorageBackend {
  readonly kind = 'filesystem' as const
  /** Absolute root directory. */
  readonly root: string
  readonly tempDir: string
  private readonly log
  private readonly staleTempMs: number
  private starting: Promise<void> | undefined

  constructor(readonly name: string, config: { path: string }, options: BackendOptions = {}) {
    if (!config.path) throw new Error(`storage backend "${name}": path is required`)
    this.root = resolve(config.path)
    this.tempDir = join(this.root, TEMP_DIR)
    this.log = options.log ?? silentLog
    this.staleTempMs = options.staleTempMs ?? HOUR
  }

  /** Creates the root and the temporary folder and sweeps stale temporary files, once. */
  ready(): Promise<void> {
    this.starting ??= this.start().catch((err) => {
      this.starting = undefined // try again on the next call
      throw new Error(`filesystem storage "${this.name}" at ${this.root}: ${messageOf(err)}`, { cause: err })
    })
    return this.starting
  }

  private async start(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true })
    const cutoff = Date.now() - this.staleTempMs
    for (const entry of await readdir(this.tempDir)) {
      const file = join(this.tempDir, entry)
      try {
        if ((await stat(file)).mtimeMs < cutoff) {
          await rm(file, { force: true, recursive: true })
          this.log.info('removed a stale temporary file', { backend: this.name, file })
        }
      } catch (err) {
        if (errno(err) !== 'ENOENT') this.log.warn('cannot sweep a temporary file', { backend: this.name, file, error: messageOf(err) })
      }
    }
  }

  /**
   * The absolute path of a key. Besides `validateKey` (which already makes traversal impossible),
   * the resolved path is checked to lie under the root, and `.tmp/` stays private.
   */
  pathOf(key: string): string {
    validateKey(key)
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) throw new InputError(`invalid storage key "${key}": ${TEMP_DIR}/ is reserved`)
    const path = resolve(this.root, ...key.split('/'))
    if (!path.startsWith(this.root + sep)) throw new InputError(`invalid storage key "${key}": outside the storage root`)
    return path
  }

  async beginWrite(): Promise<PendingWrite> {
    await this.ready()
    return new FilesystemPendingWrite(this, join(this.tempDir, tempName()))
  }

  /** Publishes the file `temp` at `key` (see the module comment); `temp` stays. */
  async publishFile(temp: string, key: string): Promise<void> {
    const dest = this.pathOf(key)
    await mkdir(dirname(dest), { recursive: true })
    const staged = join(this.tempDir, tempName())
    try {
      try {
        await link(temp, staged)
      } catch (err) {
        if (!NO_LINK.has(errno(err) ?? '')) throw err
        await copyFile(temp, staged)
        await syncFile(staged)
      }
      await rename(staged, dest)
    } catch (err) {
      await rm(staged, { force: true })
      throw err
    }
    await syncDir(dirname(dest))
  }

  async read(key: string, range?: ByteRange): Promise<{ body: Readable; size: number } | null> {
    const path = this.pathOf(key)
    let fh: FileHandle
    try {
      // Opening first and stat-ing the descriptor keeps size and content consistent even when
      // the file is replaced or deleted meanwhile. O_NOFOLLOW: a planted symlink is not followed.
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (err) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR'].includes(errno(err) ?? '')) return null
      throw err
    }
    try {
      const info = await fh.stat()
      if (!info.isFile()) {
        await fh.close()
        return null
      }
      const span = clampRange(range, info.size)
      if (!span) {
        await fh.close()
        return { body: Readable.from([]), size: info.size }
      }
      return { body: fh.createReadStream({ start: span.start, end: span.end, autoClose: true }), size: info.size }
    } catch (err) {
      await fh.close().catch(() => {})
      throw err
    }
  }

  async stat(key: string): Promise<{ size: number; mtime?: Date } | null> {
    try {
      const info = await stat(this.pathOf(key))
      return info.isFile() ? { size: info.size, mtime: info.mtime } : null
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return null
      throw err
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key)
    try {
      if ((await stat(path)).isDirectory()) return
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return
      throw err
    }
    await rm(path, { force: true })
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    validatePrefix(prefix)
    await this.ready()
    // Walk only the deepest folder the prefix names completely.
    const slash = prefix.lastIndexOf('/')
    const base = slash >= 0 ? prefix.slice(0, slash) : ''
    const dir = base ? this.pathOf(base) : this.root
    yield* this.walk(dir, base, prefix)
  }

  private async *walk(dir: string, rel: string, prefix: string): AsyncIterable<{ key: string; size: number }> {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return
      throw err
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      if (rel === '' && entry.name === TEMP_DIR) continue
      const key = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(join(dir, entry.name), key, prefix)
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          yield { key, size: (await stat(join(dir, entry.name))).size }
        } catch (err) {
          if (errno(err) !== 'ENOENT') throw err
        }
      }
    }
  }

  async check(): Promise<void> {
    const probe = join(this.tempDir, `healthz-${tempName()}`)
    const data = randomBytes(16)
    try {
      await this.ready()
      await writeFile(probe, data)
      const back = await readFile(probe)
      if (!back.equals(data)) throw new Error('read back different bytes')
    } catch (err) {
      const message = messageOf(err)
      throw new Error(message.startsWith('filesystem storage') ? message : `filesystem storage "${this.name}" at ${this.root}: ${message}`, { cause: err })
    } finally {
      await rm(probe, { force: true }).catch(() => {})
    }
  }

  async close(): Promise<void> {
    await this.starting?.catch(() => {})
  }
}

class FilesystemPendingWrite implements PendingWrite {
  size = 0
  private state: 'new' | 'writing' | 'written' | 'failed' | 'discarded' = 'new'
  private writing: Promise<number> | undefined

  constructor(private readonly backend: FilesystemBackend, private readonly temp: string) {}

  write(source: AsyncIterable<Uint8Array>): Promise<number> {
    if (this.state !== 'new') throw new Error('PendingWrite.write() may only be called once')
    this.state = 'writing'
    this.writing = this.run(source)
    return this.writing
  }

  private async run(source: AsyncIterable<Uint8Array>): Promise<number> {
    const fh = await open(this.temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
    try {
      for await (const chunk of source) {
        for (let offset = 0; offset < chunk.byteLength;) {
          const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset)
          offset += bytesWritten
        }
        this.size += chunk.byteLength
      }
      await fh.sync()
      await fh.close()
      this.state = 'written'
      return this.size
    } catch (err) {
      this.state = 'failed'
      await fh.close().catch(() => {})
      await rm(this.temp, { force: true })
      throw err
    }
  }

  async publish(key: string): Promise<void> {
    if (this.state !== 'written') throw new Error(`cannot publish a ${this.state} write`)
    await this.backend.publishFile(this.temp, key)
  }

  async discard(): Promise<void> {
    if (this.state === 'discarded') return
    await this.writing?.catch(() => {})
    this.state = 'discarded'
    await rm(this.temp, { force: true })
  }
}
