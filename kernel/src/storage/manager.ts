/**
 * Named storage backends built from the `[storage]` configuration, each with its CAS.
 *
 * ```toml
 * [storage]                 # the backend named "default"
 * type = "filesystem"
 * path = "/var/cache/batlehub"
 *
 * [[storage.backends]]      # more backends; a registry picks one with storage = "github-s3"
 * name = "github-s3"
 * type = "s3"
 * bucket = "batlehub-github"
 * region = "us-east-1"
 * ```
 *
 * Building the manager does no I/O, so a broken backend never stops start-up; `check()` (what
 * `/healthz` reports) names it.
 */
import { join } from 'node:path'
import type { LoggerService } from '@batlehub/sdk'
import type { Database } from '../db/orm.ts'
import { messageOf, silentLog, type StorageBackend } from './backend.ts'
import { Cas, type CasOptions } from './cas.ts'
import { FilesystemBackend } from './filesystem.ts'
import type { S3BackendConfig, S3BackendOptions } from './s3.ts'
import { s3Module } from './s3-loader.ts'

/** A filesystem backend; without `path`, `<dataDir>/storage` (named backends: `<dataDir>/storage-<name>`). */
export interface FilesystemStorageConfig {
  type?: 'filesystem'
  path?: string
}

/** An S3 backend; `endpoint` is accepted as an alias of `endpoint_url`. */
export type S3StorageConfig = S3BackendConfig & { endpoint?: string }

export type BackendConfig = FilesystemStorageConfig | S3StorageConfig
export type NamedBackendConfig = BackendConfig & { name: string }

/** The `[storage]` table: the default backend plus `[[storage.backends]]`. */
export type StorageConfig = BackendConfig & { backends?: readonly NamedBackendConfig[] }

export interface StorageManagerOptions {
  log?: LoggerService
  /** Base directory of filesystem backends without a `path`; default `./data`. */
  dataDir?: string
  /** Cache tuning of every CAS. */
  cas?: Pick<CasOptions, 'cacheSize' | 'cacheTtlMs'>
  /** Tuning of every S3 backend (part sizes, timeouts). */
  s3?: Omit<S3BackendOptions, 'log' | 'client'>
  /** Time limit of each backend's health check; default 15 s. */
  checkTimeoutMs?: number
}

export interface BackendHealth {
  name: string
  kind: 'filesystem' | 's3'
  ok: boolean
  /** Why the check failed, naming the backend. */
  error?: string
}

/** Thrown for a storage configuration that cannot work, or a backend name nobody configured. */
export class StorageConfigError extends Error {
  override readonly name = 'StorageConfigError'
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export class StorageManager {
  /** Backend names, "default" first. */
  readonly names: readonly string[]
  private readonly backends = new Map<string, StorageBackend>()
  private readonly stores = new Map<string, Cas>()
  private readonly log: LoggerService
  private readonly checkTimeoutMs: number
  private closed: Promise<void> | undefined

  constructor(config: StorageConfig | undefined, readonly db: Database, private readonly options: StorageManagerOptions = {}) {
    this.log = options.log ?? silentLog
    this.checkTimeoutMs = options.checkTimeoutMs ?? 15_000
    const { backends = [], ...main } = (config ?? {}) as StorageConfig
    const entries: Array<[string, BackendConfig]> = [['default', main]]
    backends.forEach((entry, i) => {
      const { name, ...rest } = entry
      if (typeof name !== 'string' || !NAME.test(name)) {
        throw new StorageConfigError(`storage.backends[${i}].name: must be 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(name)}`)
      }
      if (entries.some(([n]) => n === name)) throw new StorageConfigError(`storage.backends[${i}].name: "${name}" is used twice`)
      entries.push([name, rest])
    })
    entries.forEach(([name, entry], i) => {
      const where = i === 0 ? 'storage' : `storage.backends[${i - 1}]`
      try {
        this.backends.set(name, this.build(name, entry))
      } catch (err) {
        throw new StorageConfigError(`${where}: ${messageOf(err)}`, { cause: err })
      }
    })
    this.names = Object.freeze(entries.map(([name]) => name))
  }

  private build(name: string, config: BackendConfig): StorageBackend {
    const log = this.log.child({ storage: name })
    const type = config.type ?? 'filesystem'
    if (type === 'filesystem') {
      const fs = config as FilesystemStorageConfig
      const dataDir = this.options.dataDir ?? './data'
      const path = fs.path || join(dataDir, name === 'default' ? 'storage' : `storage-${name}`)
      return new FilesystemBackend(name, { path }, { log })
    }
    if (type === 's3') {
      const { endpoint, ...s3 } = config as S3StorageConfig
      if (!s3.bucket) throw new Error('bucket is required for an s3 backend')
      const mod = s3Module()
      if (!mod) throw new Error('S3 support is not loaded (await loadS3() from storage/s3-loader.ts before building the manager)')
      return new mod.S3Backend(name, { ...s3, endpoint_url: s3.endpoint_url ?? endpoint }, { ...this.options.s3, log })
    }
    throw new Error(`unknown storage type "${String(type)}" (filesystem or s3)`)
  }

  /**
   * Prepares filesystem roots and sweeps stale temporary files. Never throws: a backend that is
   * not usable is logged here and reported by `check()`.
   */
  async init(): Promise<void> {
    await Promise.all([...this.backends.values()].map(async (backend) => {
      if (!(backend instanceof FilesystemBackend)) return
      try {
        await backend.ready()
      } catch (err) {
        this.log.error('storage backend is not usable', { storage: backend.name, error: messageOf(err) })
      }
    }))
  }

  /** A backend by name (`storage = "<name>"` of a registry); "default" when omitted. */
  get(name = 'default'): StorageBackend {
    const backend = this.backends.get(name)
    if (!backend) throw new StorageConfigError(`unknown storage backend "${name}" (configured: ${this.names.join(', ')})`)
    return backend
  }

  /** The content-addressed store of a backend; one per backend, sharing the database. */
  cas(name = 'default'): Cas {
    let store = this.stores.get(name)
    if (!store) {
      store = new Cas({ backend: this.get(name), db: this.db, log: this.log.child({ storage: name }), ...this.options.cas })
      this.stores.set(name, store)
    }
    return store
  }

  /** Checks every backend (write, read back, delete) in parallel. Never throws. */
  async check(): Promise<BackendHealth[]> {
    return Promise.all([...this.backends.values()].map(async (backend): Promise<BackendHealth> => {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          backend.check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`storage "${backend.name}": health check timed out after ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs)
          }),
        ])
        return { name: backend.name, kind: backend.kind, ok: true }
      } catch (err) {
        const message = messageOf(err)
        return { name: backend.name, kind: backend.kind, ok: false, error: message.includes(`"${backend.name}"`) ? message : `storage "${backend.name}": ${message}` }
      } finally {
        clearTimeout(timer)
      }
    }))
  }

  /** Closes every backend. Idempotent. */
  close(): Promise<void> {
    this.closed ??= Promise.all([...this.backends.values()].map((b) => b.close().catch((err) => {
      this.log.warn('cannot close a storage backend', { storage: b.name, error: messageOf(err) })
    }))).then(() => undefined)
    return this.closed
  }
}
