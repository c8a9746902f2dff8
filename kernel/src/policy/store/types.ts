/**
 * The store for policy state shared between replicas (`[cache] type`): fixed-window counters
 * (rate limits, IP-blocking violations) and IP blocks. `memory` lives in one process; `postgres`
 * and `redis` are shared by every replica pointed at them.
 */

/** A blocked client address. Times are epoch milliseconds of the kernel clock. */
export interface IpBlockRecord {
  readonly ip: string
  readonly reason: string | null
  /** `manual` (admin API) or `auto` (violation threshold). */
  readonly source: 'manual' | 'auto'
  readonly blockedBy: string | null
  readonly blockedAt: number
  /** Null: until unblocked. */
  readonly expiresAt: number | null
}

export interface SharedStore {
  readonly kind: 'memory' | 'postgres' | 'redis'
  /**
   * Adds one to the counter `key` of the fixed window that starts at `windowStart` (epoch ms) and
   * returns the new value. The counter is forgotten once the window is over.
   */
  hit(key: string, windowStart: number, windowMs: number): Promise<number>
  /** Adds or replaces a block. */
  putIpBlock(block: IpBlockRecord): Promise<void>
  /** Removes a block; whether one existed (expired or not). */
  deleteIpBlock(ip: string): Promise<boolean>
  /** Blocks that have not expired at `now`. */
  listIpBlocks(now: number): Promise<IpBlockRecord[]>
  /** Drops expired counters and blocks. */
  sweep(now: number): Promise<void>
  close(): Promise<void>
}

/** Whether a block is in force at `now`. */
export function isActive(block: IpBlockRecord, now: number): boolean {
  return block.expiresAt === null || block.expiresAt > now
}
