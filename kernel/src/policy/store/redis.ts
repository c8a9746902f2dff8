/**
 * The Redis shared store (`[cache] type = "redis"`), on ioredis. Counters are plain keys
 * incremented by a Lua script that sets their expiry on creation (one round trip, atomic, Redis 2.6+);
 * blocks live in one hash. Every key starts with `[cache] key_prefix`.
 *
 * Commands time out quickly and are not queued while disconnected: the callers fail open (a rate
 * limit or ban that cannot be checked lets the request through and is logged), so a Redis outage
 * never stalls package downloads.
 */
import { Redis } from 'ioredis'
import { isActive, type IpBlockRecord, type SharedStore } from './types.ts'

const HIT_SCRIPT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`

type RedisWithHit = Redis & { bhHit(key: string, ttlMs: number): Promise<number> }

export interface RedisStoreOptions {
  url: string
  prefix: string
  /** Milliseconds one command may take. Default 1000. */
  commandTimeoutMs?: number
}

export class RedisStore implements SharedStore {
  readonly kind = 'redis' as const
  private readonly client: RedisWithHit
  private readonly prefix: string

  private constructor(client: RedisWithHit, prefix: string) {
    this.client = client
    this.prefix = prefix
  }

  /** Connects; rejects when Redis cannot be reached. */
  static async connect(o: RedisStoreOptions): Promise<RedisStore> {
    const client = new Redis(o.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: o.commandTimeoutMs ?? 1000,
      connectTimeout: 5000,
      // Keep reconnecting in the background after an outage, at most every 2 s.
      retryStrategy: (times) => Math.min(times * 100, 2000),
    }) as RedisWithHit
    client.defineCommand('bhHit', { numberOfKeys: 1, lua: HIT_SCRIPT })
    // Errors surface on the commands; an unhandled 'error' event would crash the process.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      throw new Error(`cannot connect to Redis (${redactUrl(o.url)}): ${(err as Error).message}`, { cause: err })
    }
    return new RedisStore(client, o.prefix)
  }

  private get blocksKey(): string {
    return `${this.prefix}ipblocks`
  }

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    // A little slack beyond the window so that a counter never vanishes while its window is live
    // on a replica whose clock runs slightly behind.
    return Number(await this.client.bhHit(`${this.prefix}counter:${key}:${windowStart}`, windowMs + 5000))
  }

  async putIpBlock(b: IpBlockRecord): Promise<void> {
    await this.client.hset(this.blocksKey, b.ip, JSON.stringify(b))
  }

  async deleteIpBlock(ip: string): Promise<boolean> {
    return (await this.client.hdel(this.blocksKey, ip)) > 0
  }

  async listIpBlocks(now: number): Promise<IpBlockRecord[]> {
    const all = await this.client.hgetall(this.blocksKey)
    const out: IpBlockRecord[] = []
    for (const value of Object.values(all)) {
      try {
        const b = JSON.parse(value) as IpBlockRecord
        if (isActive(b, now)) out.push(b)
      } catch {
        // A malformed entry (written by hand?) is ignored.
      }
    }
    return out.sort((a, b) => b.blockedAt - a.blockedAt)
  }

  async sweep(now: number): Promise<void> {
    // Counters expire by themselves; expired blocks are removed from the hash.
    const all = await this.client.hgetall(this.blocksKey)
    const expired: string[] = []
    for (const [ip, value] of Object.entries(all)) {
      try {
        if (!isActive(JSON.parse(value) as IpBlockRecord, now)) expired.push(ip)
      } catch {
        expired.push(ip)
      }
    }
    if (expired.length) await this.client.hdel(this.blocksKey, ...expired)
  }

  async close(): Promise<void> {
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<invalid url>'
  }
}
