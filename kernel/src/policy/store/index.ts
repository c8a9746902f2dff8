/** Picks the shared store from `[cache]`. */
import type { Database } from '../../db/orm.ts'
import { MemoryStore } from './memory.ts'
import { PostgresStore } from './postgres.ts'
import { RedisStore } from './redis.ts'
import type { SharedStore } from './types.ts'

export type { SharedStore, IpBlockRecord } from './types.ts'
export { isActive } from './types.ts'
export { MemoryStore, PostgresStore, RedisStore }

export async function openSharedStore(cache: { type: 'memory' | 'redis' | 'postgres'; url?: string; key_prefix: string }, db: Database): Promise<SharedStore> {
  switch (cache.type) {
    case 'redis':
      if (!cache.url) throw new Error('cache.url is required when cache.type is "redis"')
      return RedisStore.connect({ url: cache.url, prefix: cache.key_prefix })
    case 'postgres':
      return new PostgresStore(db)
    default:
      return new MemoryStore()
  }
}
