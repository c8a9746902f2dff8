/**
 * The global banner (seed administration "Global banner"): a short message shown at the top of
 * every page of the web UI, set by administrators (and by a configuration reload while it runs).
 *
 * @remarks
 * Storage follows `[cache] type`: `memory` keeps it in the process (not shared across replicas);
 * `postgres` keeps it in the `system_kv` table so every replica shows the same message. `redis` uses
 * the database too until a Redis client is part of the kernel: still shared by every replica.
 */
import Type from 'typebox'
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
  readonly kind: 'memory' | 'database'
  get(): Promise<Banner | null>
  set(banner: Banner): Promise<void>
  clear(): Promise<void>
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
    const v = row?.value as Partial<Banner> | undefined
    return v && typeof v.message === 'string' ? (v as Banner) : null
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

export function createBannerStore(cacheType: 'memory' | 'redis' | 'postgres', db: Database): BannerStore {
  return cacheType === 'memory' ? new MemoryBannerStore() : new DatabaseBannerStore(db)
}

/** The banner service the kernel exposes (the config reload sets and clears it too). */
export class BannerService {
  constructor(private readonly store: BannerStore, private readonly clock: Clock, private readonly log: LoggerService) {}

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
