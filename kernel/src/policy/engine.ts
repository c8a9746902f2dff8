/**
 * The policy engine: one per kernel, protocol-agnostic. It owns the blocklist, the audit log, the
 * shared store (rate-limit counters, IP blocks), the rate limiter and the IP blocker, and builds the
 * {@link RegistryPolicy} (`ctx.policy`) of every registry instance.
 *
 * Request order (app.ts): IP block (before authentication) → authentication → rate limit → RBAC
 * (registry host) → the plugin's route → `checkArtifact` (blocklist, deny_latest, age gate) for
 * version downloads. Every decision is recorded in the audit log (batched), counted in
 * `batlehub_policy_decisions_total{registry,rule,outcome}` and emitted as `core:policy.allowed` /
 * `core:policy.denied`.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import {
  InputError, NotAllowedError, NotFoundError, TooManyRequestsError,
  type ArtifactCheck, type Clock, type Identity, type LoggerService, type Permission,
} from '@batlehub/sdk'
import type { HubConfig } from '../config/schema.ts'
import type { Database } from '../db/orm.ts'
import type { KernelEventBus } from '../events/bus.ts'
import { AuditLog, type AuditRecord } from './audit.ts'
import { Blocklist, type BlockInfo } from './blocklist.ts'
import { IpBlocker, isValidIp, normalizeIp } from './ip-block.ts'
import { RateLimiter } from './rate-limit.ts'
import { RegistryPolicy } from './registry-policy.ts'
import { RULE, type Decision, type RuleInput } from './rules.ts'
import { openSharedStore, type IpBlockRecord, type SharedStore } from './store/index.ts'

export interface PolicyEngineOptions {
  config: HubConfig
  db: Database
  clock: Clock
  log: LoggerService
  bus: KernelEventBus
  metrics: { registry: Registry }
  /** Shared store to use instead of the one `[cache]` selects (tests). */
  store?: SharedStore
  /** Blocklist poll interval on PostgreSQL (ms). Default 2000. */
  blocklistPollMs?: number
  /** IP-block snapshot refresh interval with a shared store (ms). Default 1000. */
  ipRefreshMs?: number
}

/** Who did an administrative action. */
export interface Actor {
  subject: string
  userId: string
  role: Identity['role']
}

export interface VersionRef {
  registry: string
  name: string
  version: string
}

const SWEEP_MS = 60_000
/** IP-block and rate-limit refusals are audited once per address/pool per this period, not per request. */
const REFUSAL_AUDIT_MS = 60_000

export class PolicyEngine {
  readonly clock: Clock
  readonly blocklist: Blocklist
  readonly audit: AuditLog
  private store!: SharedStore
  private limiter!: RateLimiter
  private ipBlocker!: IpBlocker
  private readonly registries = new Map<string, RegistryPolicy>()
  private readonly pending = new Set<Promise<unknown>>()
  private sweepTimer?: NodeJS.Timeout
  private readonly refusalsAudited = new Map<string, number>()
  private lastStoreWarning = 0
  private started = false

  private readonly decisions: Counter<'registry' | 'rule' | 'outcome'>
  private readonly decisionChildren = new Map<string, { inc(): void }>()
  private readonly rateLimited: Counter<'enforcement'>
  private readonly ipRefused: Counter
  private readonly ipBlocks: Counter<'source'>
  private readonly storeErrors: Counter<'operation'>

  constructor(private readonly o: PolicyEngineOptions) {
    this.clock = o.clock
    const registers = [o.metrics.registry]
    this.decisions = new Counter({
      name: 'batlehub_policy_decisions_total',
      help: 'Policy decisions by registry ("" for API requests), rule ("none" for plain allows) and outcome',
      labelNames: ['registry', 'rule', 'outcome'], registers,
    })
    this.rateLimited = new Counter({ name: 'batlehub_rate_limit_exceeded_total', help: 'Requests over their rate limit, by enforcement', labelNames: ['enforcement'], registers })
    this.ipRefused = new Counter({ name: 'batlehub_ip_blocked_requests_total', help: 'Requests refused because their address is blocked', registers })
    this.ipBlocks = new Counter({ name: 'batlehub_ip_blocks_total', help: 'Addresses blocked, by source (manual, auto)', labelNames: ['source'], registers })
    this.storeErrors = new Counter({ name: 'batlehub_policy_store_errors_total', help: 'Shared-store failures (the check failed open)', labelNames: ['operation'], registers })
    const written = new Counter({ name: 'batlehub_audit_entries_written_total', help: 'Audit entries written', registers })
    const dropped = new Counter({ name: 'batlehub_audit_entries_dropped_total', help: 'Audit entries dropped because the database could not keep up', registers })
    const blocklist = new Blocklist(o.db, o.clock, o.log.child({ component: 'blocklist' }))
    new Gauge({ name: 'batlehub_blocked_versions', help: 'Blocked package versions', registers, collect() { this.set(blocklist.size) } })
    this.blocklist = blocklist
    this.audit = new AuditLog({
      db: o.db, clock: o.clock, log: o.log.child({ component: 'audit' }),
      enabled: o.config.audit.enabled, retentionDays: o.config.audit.retention_days,
      onWritten: (n) => written.inc(n), onDropped: (n) => dropped.inc(n),
    })
  }

  /** Opens the shared store, loads the blocklist and IP blocks, and starts the timers. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.store = this.o.store ?? (await openSharedStore(this.o.config.cache, this.o.db))
    this.limiter = new RateLimiter(this.o.config.rate_limit, this.store, this.clock)
    this.ipBlocker = new IpBlocker({
      store: this.store, clock: this.clock, log: this.o.log.child({ component: 'ip-blocking' }),
      config: this.o.config.ip_blocking, refreshMs: this.o.ipRefreshMs,
      onBlocked: (b) => this.onIpBlocked(b),
    })
    await this.blocklist.load()
    if (this.o.db.dialect === 'postgresql') this.blocklist.startPolling(this.o.blocklistPollMs ?? 2000)
    await this.ipBlocker.start()
    this.audit.start()
    this.sweepTimer = setInterval(() => {
      this.track(this.store.sweep(this.clock.now()).catch((err) => this.storeFailed('sweep', err)))
      const cutoff = this.clock.now() - REFUSAL_AUDIT_MS
      for (const [k, t] of this.refusalsAudited) if (t < cutoff) this.refusalsAudited.delete(k)
    }, SWEEP_MS)
    this.sweepTimer.unref()
  }

  get storeKind(): SharedStore['kind'] {
    return this.store.kind
  }

  /** Builds the policy of a registry instance (`ctx.policy`). */
  forRegistry(o: { registry: string; rules: readonly RuleInput[]; normalize: (name: string) => string; can: (i: Identity, p: Permission) => boolean; assert: (i: Identity, p: Permission) => void }): RegistryPolicy {
    const policy = new RegistryPolicy(this, o)
    this.registries.set(o.registry, policy)
    return policy
  }

  registry(name: string): RegistryPolicy | undefined {
    return this.registries.get(name)
  }

  // -------------------------------------------------------------------------------------------
  // Decisions
  // -------------------------------------------------------------------------------------------

  /** Records a version/tag decision of a registry. */
  recordArtifactDecision(registry: string, check: ArtifactCheck, d: Decision): void {
    this.record({
      registry, action: check.action ?? 'download', package: check.name, version: check.version ?? check.requestedTag ?? null,
      userId: check.identity.userId, role: check.identity.role, outcome: d.outcome, rule: d.rule, reason: d.reason,
      ip: check.ip ?? null,
    }, check.identity.subject)
  }

  /** Records a refusal by RBAC (a route permission or a plugin's `ctx.policy.assert`). */
  recordRbacDenial(registry: string, identity: Identity, permission: Permission, ip: string | null, err: unknown): void {
    this.record({
      registry, action: 'request', package: null, version: null, userId: identity.userId, role: identity.role,
      outcome: 'deny', rule: RULE.rbac, reason: `${permission} required: ${(err as Error)?.message ?? 'refused'}`, ip,
    }, identity.subject)
  }

  private record(r: AuditRecord, subject: string): void {
    this.audit.record(r)
    const registry = r.registry ?? ''
    const rule = r.rule ?? 'none'
    const key = `${registry}\u0000${rule}\u0000${r.outcome}`
    let child = this.decisionChildren.get(key)
    if (!child) {
      child = this.decisions.labels({ registry, rule, outcome: r.outcome })
      this.decisionChildren.set(key, child)
    }
    child.inc()
    const bus = this.o.bus
    if (r.outcome === 'deny') {
      if (bus.listenerCount('core:policy.denied')) {
        bus.emit('core:policy.denied', {
          registry, name: r.package ?? undefined, version: r.version ?? undefined, rule, reason: r.reason ?? '', subject, at: this.now(),
        })
      }
    } else if (bus.listenerCount('core:policy.allowed')) {
      bus.emit('core:policy.allowed', { registry, name: r.package ?? undefined, version: r.version ?? undefined, subject, at: this.now() })
    }
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString()
  }

  /** Whether a refusal of this kind for this key was audited recently (and marks it if not). */
  private auditedRecently(key: string): boolean {
    const now = this.clock.now()
    const last = this.refusalsAudited.get(key)
    if (last !== undefined && now - last < REFUSAL_AUDIT_MS) return true
    this.refusalsAudited.set(key, now)
    return false
  }

  // -------------------------------------------------------------------------------------------
  // Request gate (app.ts)
  // -------------------------------------------------------------------------------------------

  /** Before authentication: refuses a blocked address with 403 and `X-Block-Expires`. */
  checkIp(ip: string, registry: string | undefined): void {
    const block = this.ipBlocker.check(ip)
    if (!block) return
    this.ipRefused.inc()
    const reason = `address ${block.ip} is blocked${block.reason ? `: ${block.reason}` : ''}`
    const expires = block.expiresAt === null ? 'never' : new Date(block.expiresAt).toISOString()
    if (!this.auditedRecently(`ip:${block.ip}`)) {
      this.record({
        registry: registry ?? null, action: 'request', package: null, version: null, userId: 'anonymous', role: 'anonymous',
        outcome: 'deny', rule: RULE.ipBlock, reason, ip: block.ip,
      }, 'anonymous')
    }
    throw new NotAllowedError(`${reason} (until ${expires})`, { headers: { 'X-Block-Expires': expires } })
  }

  /**
   * After authentication: counts the request against the caller's budget. Returns the
   * `X-RateLimit-*` headers to send (null when the caller is unlimited or rate limiting is off);
   * rejects with 429 and `Retry-After` when over the limit under `enforcement = "block"`. Returns
   * null synchronously when rate limiting is off, so the hot path awaits nothing.
   */
  rateLimit(identity: Identity, ip: string, registry: string | undefined): Promise<Record<string, string> | null> | null {
    return this.limiter.enabled ? this.countRequest(identity, ip, registry) : null
  }

  private async countRequest(identity: Identity, ip: string, registry: string | undefined): Promise<Record<string, string> | null> {
    let r
    try {
      r = await this.limiter.hit(identity, ip)
    } catch (err) {
      this.storeFailed('rate_limit', err)
      return null
    }
    if (!r) return null
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(r.limit),
      'X-RateLimit-Remaining': String(r.remaining),
      // Epoch seconds of the window's end, as GitHub's API sends it.
      'X-RateLimit-Reset': String(Math.ceil(r.resetAt / 1000)),
    }
    if (!r.exceeded) return headers
    const enforcement = this.limiter.enforcement
    this.rateLimited.inc({ enforcement })
    const windowSecs = this.limiter.windowMs / 1000
    const message = `rate limit of ${r.limit} request${r.limit === 1 ? '' : 's'} per ${windowSecs}s exceeded`
    if (this.o.bus.listenerCount('core:ratelimit.exceeded')) {
      this.o.bus.emit('core:ratelimit.exceeded', { pool: r.pool, limit: r.limit, enforcement, subject: identity.subject, ip, at: this.now() })
    }
    if (enforcement === 'warn') {
      headers['X-RateLimit-Warning'] = message
      return headers
    }
    if (!this.auditedRecently(`rl:${r.pool}:${r.resetAt}`)) {
      this.record({
        registry: registry ?? null, action: 'request', package: null, version: null, userId: identity.userId, role: identity.role,
        outcome: 'deny', rule: RULE.rateLimit, reason: `${message} (${r.pool})`, ip,
      }, identity.subject)
    }
    const retryAfter = Math.max(1, Math.ceil((r.resetAt - this.clock.now()) / 1000))
    throw new TooManyRequestsError(`${message}; retry in ${retryAfter}s`, { headers: { ...headers, 'Retry-After': String(retryAfter) } })
  }

  /** After the response: counts violations for automatic IP blocking. Never waits. */
  observe(ip: string, status: number): void {
    if (!this.started || !this.ipBlocker.counts(status)) return
    this.track(this.ipBlocker.violation(ip, status).catch((err) => this.storeFailed('ip_violation', err)))
  }

  private onIpBlocked(b: IpBlockRecord): void {
    this.ipBlocks.inc({ source: b.source })
    if (b.source === 'auto') this.o.log.warn('address blocked after repeated violations', { ip: b.ip, reason: b.reason, expiresAt: b.expiresAt })
    this.o.bus.emit('core:ip.blocked', {
      ip: b.ip, source: b.source, reason: b.reason, expiresAt: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(), at: this.now(),
    })
  }

  private storeFailed(operation: string, err: unknown): void {
    this.storeErrors.inc({ operation })
    const now = Date.now()
    if (now - this.lastStoreWarning > 10_000) {
      this.lastStoreWarning = now
      this.o.log.warn('policy store unavailable; failing open', { operation, store: this.store?.kind, err: (err as Error)?.message })
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  /** Waits for background work (violation counting, sweeps) to settle (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending])
  }

  // -------------------------------------------------------------------------------------------
  // Administration (admin API)
  // -------------------------------------------------------------------------------------------

  /** Resolves a registry and normalises a package name; throws InputError for unknown registries. */
  private ref(item: { registry: string; name: string; version: string }): VersionRef {
    const policy = this.registries.get(item.registry)
    if (!policy) throw new InputError(`no registry named ${JSON.stringify(item.registry)}`)
    if (typeof item.name !== 'string' || item.name.trim() === '' || item.name.length > 512) throw new InputError('name must be 1 to 512 characters')
    if (typeof item.version !== 'string' || item.version.trim() === '' || item.version.length > 255 || /[\u0000-\u001f]/.test(item.version)) {
      throw new InputError('version must be 1 to 255 printable characters')
    }
    return { registry: item.registry, name: policy.normalizeName(item.name), version: item.version }
  }

  async block(items: ReadonlyArray<VersionRef & { reason?: string | null }>, actor: Actor): Promise<{ results: Array<{ info: BlockInfo; created: boolean }>; failed: Array<{ item: unknown; error: string }> }> {
    const valid: Array<VersionRef & { reason?: string | null }> = []
    const failed: Array<{ item: unknown; error: string }> = []
    for (const item of items) {
      try {
        valid.push({ ...this.ref(item), reason: item.reason ?? null })
      } catch (err) {
        failed.push({ item, error: (err as Error).message })
      }
    }
    const results = await this.blocklist.block(valid.map((v) => ({ ...v, blockedBy: actor.userId })))
    for (const { info } of results) {
      this.o.bus.emit('core:package.blocked', {
        registry: info.registry, name: info.name, version: info.version, reason: info.reason,
        actor: { subject: actor.subject, userId: actor.userId, role: actor.role }, at: this.now(),
      })
    }
    return { results, failed }
  }

  async unblock(items: readonly VersionRef[], actor: Actor): Promise<BlockInfo[]> {
    const removed = await this.blocklist.unblock(items.map((i) => this.ref(i)))
    for (const info of removed) {
      this.o.bus.emit('core:package.unblocked', {
        registry: info.registry, name: info.name, version: info.version,
        actor: { subject: actor.subject, userId: actor.userId, role: actor.role }, at: this.now(),
      })
    }
    return removed
  }

  async listBlocks(filter: { registry?: string; name?: string; version?: string; limit?: number; offset?: number }): Promise<{ total: number; items: BlockInfo[] }> {
    let name = filter.name
    if (name && filter.registry) {
      const policy = this.registries.get(filter.registry)
      if (!policy) throw new NotFoundError(`no registry named ${JSON.stringify(filter.registry)}`)
      name = policy.normalizeName(name)
    }
    return this.blocklist.list({ ...filter, name })
  }

  async blockIp(input: { ip: string; reason?: string | null; durationSecs?: number | null }, actor: Actor): Promise<IpBlockRecord> {
    if (!isValidIp(input.ip)) throw new InputError(`not an IP address: ${JSON.stringify(input.ip)}`)
    return this.ipBlocker.block({ ip: input.ip, reason: input.reason, durationSecs: input.durationSecs, source: 'manual', blockedBy: actor.userId })
  }

  async unblockIp(ip: string): Promise<boolean> {
    if (!isValidIp(ip)) throw new InputError(`not an IP address: ${JSON.stringify(ip)}`)
    const existed = await this.ipBlocker.unblock(ip)
    if (existed) this.o.bus.emit('core:ip.unblocked', { ip: normalizeIp(ip), at: this.now() })
    return existed
  }

  listIpBlocks(): Promise<IpBlockRecord[]> {
    return this.ipBlocker.list()
  }

  /** Re-reads IP blocks from the shared store now (tests; normally a timer does it). */
  refreshIpBlocks(): Promise<void> {
    return this.ipBlocker.refresh()
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    await this.idle().catch(() => {})
    await this.audit.close()
    await this.blocklist.stopPolling()
    await (this.ipBlocker as IpBlocker | undefined)?.stop()
    if ((this.store as SharedStore | undefined) && !this.o.store) await this.store.close().catch(() => {})
  }
}
