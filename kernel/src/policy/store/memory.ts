/**
 * The in-process shared store (`[cache] type = "memory"`, the default): one replica only.
 */
import { isActive, type IpBlockRecord, type SharedStore } from './types.ts'

export class MemoryStore implements SharedStore {
  readonly kind = 'memory' as const
  private readonly counters = new Map<string, { count: number; expiresAt: number }>()
  private readonly blocks = new Map<string, IpBlockRecord>()

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    return this.hitSync(key, windowStart, windowMs)
  }

  /** The synchronous form, for the hot path. */
  hitSync(key: string, windowStart: number, windowMs: number): number {
    const k = `${key}\u0000${windowStart}`
    const c = this.counters.get(k)
    if (c) return ++c.count
    this.counters.set(k, { count: 1, expiresAt: windowStart + windowMs })
    return 1
  }

  async putIpBlock(block: IpBlockRecord): Promise<void> {
    this.blocks.set(block.ip, { ...block })
  }

  async deleteIpBlock(ip: string): Promise<boolean> {
    return this.blocks.delete(ip)
  }

  async listIpBlocks(now: number): Promise<IpBlockRecord[]> {
    return [...this.blocks.values()].filter((b) => isActive(b, now))
  }

  async sweep(now: number): Promise<void> {
    for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k)
    for (const [ip, b] of this.blocks) if (!isActive(b, now)) this.blocks.delete(ip)
  }

  /** Counters held (tests check that sweeping bounds memory). */
  get size(): number {
    return this.counters.size
  }

  async close(): Promise<void> {
    this.counters.clear()
    this.blocks.clear()
  }
}
