/**
 * IP blocking (seed "IP-Based Blocking"): addresses that cause `violation_threshold` responses with
 * a `trigger_on_status` status within `violation_window_secs` are banned for `ban_duration_secs`;
 * administrators block and unblock addresses by hand. A blocked address gets 403 with
 * `X-Block-Expires` before authentication runs.
 *
 * Blocks and violation counters live in the shared store. The per-request check reads an in-memory
 * snapshot of the active blocks; with a shared store (postgres, redis) the snapshot is refreshed
 * every second, so a block made on one replica reaches the others within that time, and a change
 * made on this replica applies at once.
 */
import { isIP } from 'node:net'
import type { Clock, LoggerService } from '@batlehub/sdk'
import type { DeepReadonly, IpBlockingConfig } from '../config/schema.ts'
import { isActive, type IpBlockRecord, type SharedStore } from './store/types.ts'

/** The canonical text of an address: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4, IPv6 lower-cased. */
export function normalizeIp(ip: string): string {
  const trimmed = ip.trim()
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed)
  if (mapped) return mapped[1]!
  return isIP(trimmed) === 6 ? trimmed.toLowerCase() : trimmed
}

export function isValidIp(ip: string): boolean {
  return isIP(ip.trim()) !== 0
}

export interface IpBlockerOptions {
  store: SharedStore
  clock: Clock
  log: LoggerService
  config: DeepReadonly<IpBlockingConfig>
  /** Snapshot refresh interval for shared stores. Default 1000 ms. */
  refreshMs?: number
  onBlocked?: (block: IpBlockRecord) => void
}

export class IpBlocker {
  private snapshot = new Map<string, IpBlockRecord>()
  /** Bumped by local changes, so that a refresh that started before one does not undo it. */
  private localVersion = 0
  private timer?: NodeJS.Timeout
  private refreshing?: Promise<void>
  private readonly triggers: ReadonlySet<number>

  constructor(private readonly o: IpBlockerOptions) {
    this.triggers = new Set(o.config.trigger_on_status)
  }

  get autoEnabled(): boolean {
    return this.o.config.enabled
  }

  async start(): Promise<void> {
    await this.refresh()
    if (this.o.store.kind === 'memory') return
    this.timer = setInterval(() => {
      if (this.refreshing) return
      this.refreshing = this.refresh()
        .catch((err) => this.o.log.warn('ip block refresh failed; keeping the last known blocks', { err: (err as Error).message }))
        .finally(() => {
          this.refreshing = undefined
        })
    }, this.o.refreshMs ?? 1000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.refreshing
  }

  /** Reloads the snapshot from the store. */
  async refresh(): Promise<void> {
    const version = this.localVersion
    const blocks = await this.o.store.listIpBlocks(this.o.clock.now())
    if (version !== this.localVersion) return
    this.snapshot = new Map(blocks.map((b) => [b.ip, b]))
  }

  /** The block in force for an address, if any (no I/O). */
  check(ip: string): IpBlockRecord | null {
    if (this.snapshot.size === 0) return null
    const b = this.snapshot.get(normalizeIp(ip))
    if (!b) return null
    if (isActive(b, this.o.clock.now())) return b
    this.snapshot.delete(b.ip)
    return null
  }

  async block(input: { ip: string; reason?: string | null; durationSecs?: number | null; source: 'manual' | 'auto'; blockedBy?: string | null }): Promise<IpBlockRecord> {
    const now = this.o.clock.now()
    const block: IpBlockRecord = {
      ip: normalizeIp(input.ip),
      reason: input.reason ?? null,
      source: input.source,
      blockedBy: input.blockedBy ?? null,
      blockedAt: now,
      expiresAt: input.durationSecs ? now + input.durationSecs * 1000 : null,
    }
    await this.o.store.putIpBlock(block)
    this.localVersion++
    this.snapshot.set(block.ip, block)
    this.o.onBlocked?.(block)
    return block
  }

  async unblock(ip: string): Promise<boolean> {
    const key = normalizeIp(ip)
    const existed = await this.o.store.deleteIpBlock(key)
    this.localVersion++
    const had = this.snapshot.delete(key)
    return existed || had
  }

  /** Active blocks, from the store. */
  async list(): Promise<IpBlockRecord[]> {
    return this.o.store.listIpBlocks(this.o.clock.now())
  }

  /** Whether a response status counts as a violation. */
  counts(status: number): boolean {
    return this.o.config.enabled && this.triggers.has(status)
  }

  /**
   * Counts a violating response of an address; bans it once the threshold is reached in the
   * window. Returns the new block, if one was made.
   */
  async violation(ip: string, status: number): Promise<IpBlockRecord | null> {
    if (!this.counts(status)) return null
    const addr = normalizeIp(ip)
    if (this.check(addr)) return null
    const windowMs = this.o.config.violation_window_secs * 1000
    const now = this.o.clock.now()
    const windowStart = now - (now % windowMs)
    const count = await this.o.store.hit(`viol:${addr}`, windowStart, windowMs)
    if (count < this.o.config.violation_threshold) return null
    return this.block({
      ip: addr,
      source: 'auto',
      reason: `${count} responses with status ${[...this.triggers].join('/')} within ${this.o.config.violation_window_secs}s`,
      durationSecs: this.o.config.ban_duration_secs,
    })
  }
}
