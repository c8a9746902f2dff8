/**
 * Rate limiting (seed "Rate limiting — per-user and per-group request rate limits with configurable
 * windows. X-RateLimit-* headers; supports per-group pools").
 *
 * Fixed windows of `[rate_limit] window_secs`, aligned to the epoch so that every replica agrees on
 * where a window starts. The budget of a caller is, in order:
 * 1. the first `[[rate_limit.groups]]` entry whose `group` glob matches one of the caller's groups:
 *    with `shared = true` every member draws from one pool (a CI-bot bucket), otherwise each member
 *    has that limit for themself;
 * 2. else the limit of the caller's role in `[rate_limit.limits]`: per user (subject) for known
 *    callers, per client address for anonymous ones.
 * A limit of 0 means unlimited: nothing is counted and no headers are sent.
 */
import type { Clock, Identity } from '@batlehub/sdk'
import { compileGroupPattern } from '../auth/rbac.ts'
import type { RateLimitConfig } from '../config/schema.ts'
import type { DeepReadonly } from '../config/schema.ts'
import type { SharedStore } from './store/types.ts'

/** The outcome of counting one request. */
export interface RateLimitResult {
  readonly limit: number
  /** Requests left in this window (0 once exceeded). */
  readonly remaining: number
  /** Epoch milliseconds when the window ends. */
  readonly resetAt: number
  readonly exceeded: boolean
  /** The counter: `group:<glob>`, `user:<subject>` or `ip:<address>`. */
  readonly pool: string
}

interface GroupLimit {
  readonly pattern: string
  readonly regex: RegExp
  readonly limit: number
  readonly shared: boolean
}

export class RateLimiter {
  readonly enabled: boolean
  readonly enforcement: 'block' | 'warn'
  readonly windowMs: number
  private readonly groups: readonly GroupLimit[]
  private readonly roleLimits: Readonly<Record<string, number>>

  constructor(config: DeepReadonly<RateLimitConfig>, private readonly store: SharedStore, private readonly clock: Clock) {
    this.enabled = config.enabled
    this.enforcement = config.enforcement
    this.windowMs = config.window_secs * 1000
    this.groups = config.groups.map((g) => ({ pattern: g.group, regex: compileGroupPattern(g.group), limit: g.limit, shared: g.shared }))
    this.roleLimits = { anonymous: config.limits.anonymous, user: config.limits.user, admin: config.limits.admin }
  }

  /** Which counter and limit apply to a caller; null when unlimited. */
  budgetOf(identity: Identity, ip: string): { pool: string; limit: number } | null {
    if (this.groups.length && identity.groups.length) {
      for (const g of this.groups) {
        if (!identity.groups.some((id) => g.regex.test(id))) continue
        if (g.limit === 0) return null
        return { pool: g.shared ? `group:${g.pattern}` : `user:${identity.subject}`, limit: g.limit }
      }
    }
    const limit = this.roleLimits[identity.role] ?? 0
    if (limit === 0) return null
    return { pool: identity.role === 'anonymous' ? `ip:${ip}` : `user:${identity.subject}`, limit }
  }

  /** Counts one request of the caller. Null when the caller is unlimited. Throws when the store fails. */
  async hit(identity: Identity, ip: string): Promise<RateLimitResult | null> {
    const budget = this.budgetOf(identity, ip)
    if (!budget) return null
    const now = this.clock.now()
    const windowStart = now - (now % this.windowMs)
    const count = await this.store.hit(`rl:${budget.pool}`, windowStart, this.windowMs)
    return {
      limit: budget.limit,
      remaining: Math.max(0, budget.limit - count),
      resetAt: windowStart + this.windowMs,
      exceeded: count > budget.limit,
      pool: budget.pool,
    }
  }
}
