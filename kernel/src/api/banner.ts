/**
 * The global banner (seed administration "Global banner"): a short message shown at the top of
 * every page of the web UI, set by administrators (and by a configuration reload while it runs).
 *
 * @remarks
 * Storage follows `[cache] type` (seed "High-availability banner propagation"): `memory` keeps it in
 * the process (not shared across replicas); `redis` keeps it under the key
 * `<key_prefix>system:banner` (`batlehub:system:banner` by default); `postgres` in the `system_kv`
 * table. With either shared store every replica shows the same message.
 */
import Type from 'typebox'
import { Redis } from 'ioredis'
import type { Clock, LoggerService } from '@batlehub/sdk'
import { SystemKv } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'
import type { ApiRouter } from './api-router.ts'

export type BannerLevel = 'info' | 'warning' | 'error'

export interface Banner {
  message: string
  level: BannerLevel
  set_by: string
  set_at: string
}

export interface BannerStore {
  readonly kind: 'memory' | 'database' | 'redis'
  get(): Promise<Banner | null>
  set(banner: Banner): Promise<void>
  clear(): Promise<void>
  close?(): Promise<void>
}

export class MemoryBannerStore implements BannerStore {
  readonly kind = 'memory' as const
  #banner: Banner | null = null
  async get(): Promise<Banner | null> {
    return this.#banner
  }
  async set(banner: Banner): Promise<void> {
    this.#banner = { ...banner }
  }
  async clear(): Promise<void> {
    this.#banner = null
  }
}

const KEY = 'batlehub:system:banner'

/** `system_kv` row `batlehub:system:banner`, shared by every replica on the same database. */
export class DatabaseBannerStore implements BannerStore {
  readonly kind = 'database' as const
  constructor(private readonly db: Database) {}
  async get(): Promise<Banner | null> {
    const row = await this.db.em().findOne(SystemKv, { key: KEY })
    return parseBanner(row?.value ?? null)
  }
  async set(banner: Banner): Promise<void> {
    await this.db.em().upsert(SystemKv, { key: KEY, value: banner, updatedAt: new Date() }, {
      onConflictFields: ['key'], onConflictAction: 'merge', onConflictMergeFields: ['value', 'updatedAt'],
    })
  }
  async clear(): Promise<void> {
    await this.db.em().nativeDelete(SystemKv, { key: KEY })
  }
}

function parseBanner(v: unknown): Banner | null {
  const b = v as Partial<Banner> | null
  return b && typeof b.message === 'string' && typeof b.level === 'string' ? (b as Banner) : null
}

/** The banner in Redis, shared by every replica using the same Redis and key prefix. */
export class RedisBannerStore implements BannerStore {
  readonly kind = 'redis' as const
  private constructor(private readonly client: Redis, private readonly key: string) {}

  /** Connects; rejects when Redis cannot be reached (start-up fails, like the policy store). */
  static async connect(url: string, prefix: string): Promise<RedisBannerStore> {
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    })
    // Errors surface on the commands; an unhandled 'error' event would crash the process.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      throw new Error(`banner store: cannot connect to Redis: ${(err as Error).message}`, { cause: err })
    }
    return new RedisBannerStore(client, `${prefix}system:banner`)
  }

  async get(): Promise<Banner | null> {
    const raw = await this.client.get(this.key)
    if (!raw) return null
    try {
      return parseBanner(JSON.parse(raw))
    } catch {
      return null
    }
  }
  async set(banner: Banner): Promise<void> {
    await this.client.set(this.key, JSON.stringify(banner))
  }
  async clear(): Promise<void> {
    await this.client.del(this.key)
  }
  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }
}

export async function createBannerStore(cache: { type: 'memory' | 'redis' | 'postgres'; url?: string; key_prefix: string }, db: Database): Promise<BannerStore> {
  switch (cache.type) {
    case 'redis':
      if (!cache.url) throw new Error('cache.url is required when cache.type is "redis"')
      return RedisBannerStore.connect(cache.url, cache.key_prefix)
    case 'postgres':
      return new DatabaseBannerStore(db)
    default:
      return new MemoryBannerStore()
  }
}

/** The banner service the kernel exposes (the config reload sets and clears it too). */
export class BannerService {
  constructor(readonly store: BannerStore, private readonly clock: Clock, private readonly log: LoggerService) {}

  get(): Promise<Banner | null> {
    return this.store.get()
  }

  async set(message: string, level: BannerLevel, by: string): Promise<Banner> {
    const banner: Banner = { message, level, set_by: by, set_at: new Date(this.clock.now()).toISOString() }
    await this.store.set(banner)
    this.log.info('banner set', { level, by })
    return banner
  }

  async clear(by: string): Promise<void> {
    await this.store.clear()
    this.log.info('banner cleared', { by })
  }
}

export const BannerSchema = Type.Object({
  message: Type.String(),
  level: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
  set_by: Type.String(),
  set_at: Type.String({ format: 'date-time' }),
}, { $id: 'Banner' })

export function registerBannerApi(api: ApiRouter, deps: { banner: () => BannerService }): void {
  api.add({
    method: 'GET',
    path: '/api/v1/banner',
    summary: 'The global banner, shown to every visitor (null when none)',
    tags: ['banner'],
    access: 'public',
    response: Type.Object({ banner: Type.Union([BannerSchema, Type.Null()]) }),
    handler: async ({ koa }) => {
      koa.set('Cache-Control', 'no-store')
      return { banner: await deps.banner().get() }
    },
  })
  api.add<never, { message: string; level: BannerLevel }>({
    method: 'PUT',
    path: '/api/v1/admin/banner',
    summary: 'Set the global banner',
    tags: ['banner', 'admin'],
    access: 'admin',
    body: Type.Object({
      message: Type.String({ minLength: 1, maxLength: 500 }),
      level: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')], { default: 'info' }),
    }, { additionalProperties: false }),
    response: Type.Object({ banner: BannerSchema }),
    handler: async ({ body, identity }) => {
      const message = body.message.trim()
      return { banner: await deps.banner().set(message || body.message, body.level, identity.userId) }
    },
  })
  api.add({
    method: 'DELETE',
    path: '/api/v1/admin/banner',
    summary: 'Clear the global banner',
    tags: ['banner', 'admin'],
    access: 'admin',
    response: Type.Object({ ok: Type.Literal(true) }),
    handler: async ({ identity }) => {
      await deps.banner().clear(identity.userId)
      return { ok: true as const }
    },
  })
}
