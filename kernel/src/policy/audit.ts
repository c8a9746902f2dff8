/**
 * The audit log (seed "Audit log"): every allow and deny decision, kept in `audit_log`.
 *
 * Recording is synchronous and costs one small object: entries queue in memory and a timer writes
 * them in batches (one multi-row insert per batch), never one database write per request. A
 * database outage keeps entries queued up to a bound, past which the oldest are dropped and counted
 * (`batlehub_audit_dropped_total`) rather than growing memory without limit. Queries flush the
 * local queue first, so a decision is visible to the API as soon as it was made on this replica.
 *
 * Retention: entries older than `[audit] retention_days` are purged hourly. On PostgreSQL the purge
 * takes a transaction-level advisory lock, so one replica runs it while the others skip.
 */
import type { Clock, LoggerService } from '@batlehub/sdk'
import { AuditEntry } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'
import { UlidFactory } from './ulid.ts'

/** One decision, as the engine records it. */
export interface AuditRecord {
  readonly registry: string | null
  /** `download`, `metadata`, `request`, … */
  readonly action: string
  readonly package: string | null
  readonly version: string | null
  readonly userId: string
  readonly role: string
  readonly outcome: 'allow' | 'deny'
  readonly rule: string | null
  readonly reason: string | null
  readonly ip: string | null
}

/** An entry as the API returns it (seed shape plus `action`, `reason`, `ip`). */
export interface AuditEntryJson {
  id: string
  timestamp: string
  registry: string | null
  action: string
  package: string | null
  version: string | null
  user_id: string
  role: string
  outcome: 'allow' | 'deny'
  rule: string | null
  reason: string | null
  ip: string | null
}

export interface AuditFilter {
  registry?: string
  outcome?: 'allow' | 'deny'
  user?: string
  package?: string
  version?: string
  rule?: string
  action?: string
  /** ISO-8601 bounds on the timestamp. */
  since?: string
  until?: string
  /** Page: entries older than this id. */
  before?: string
  limit?: number
}

interface Queued extends AuditRecord {
  id: string
  timestamp: number
}

export interface AuditLogOptions {
  db: Database
  clock: Clock
  log: LoggerService
  enabled: boolean
  retentionDays: number
  flushIntervalMs?: number
  batchSize?: number
  maxQueue?: number
  onWritten?: (n: number) => void
  onDropped?: (n: number) => void
}

/** Advisory lock id of the retention purge (any constant; shared by every replica). */
const PURGE_LOCK = 4_242_001
const HOUR = 3_600_000

export class AuditLog {
  private queue: Queued[] = []
  private readonly ids: UlidFactory
  private flushTimer?: NodeJS.Timeout
  private purgeTimer?: NodeJS.Timeout
  private flushing: Promise<void> | null = null
  private closed = false
  readonly enabled: boolean
  private readonly batchSize: number
  private readonly maxQueue: number

  constructor(private readonly o: AuditLogOptions) {
    this.enabled = o.enabled
    this.ids = new UlidFactory(() => o.clock.now())
    this.batchSize = o.batchSize ?? 500
    this.maxQueue = o.maxQueue ?? 100_000
  }

  start(): void {
    if (!this.enabled) return
    this.flushTimer = setInterval(() => void this.flush(), this.o.flushIntervalMs ?? 1000)
    this.flushTimer.unref()
    if (this.o.retentionDays > 0) {
      const purge = () => void this.purge().catch((err) => this.o.log.warn('audit purge failed', { err: (err as Error).message }))
      // First purge shortly after start, then hourly.
      const first = setTimeout(purge, 60_000)
      first.unref()
      this.purgeTimer = setInterval(purge, HOUR)
      this.purgeTimer.unref()
      this.firstPurge = first
    }
  }
  private firstPurge?: NodeJS.Timeout

  /** Queues a decision. Never throws, never waits. */
  record(r: AuditRecord): void {
    if (!this.enabled || this.closed) return
    this.queue.push({ ...r, id: this.ids.next(), timestamp: this.o.clock.now() })
    if (this.queue.length > this.maxQueue) {
      const drop = this.queue.length - this.maxQueue
      this.queue.splice(0, drop)
      this.o.onDropped?.(drop)
    }
    if (this.queue.length >= this.batchSize && !this.flushing) void this.flush()
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.queue.length
  }

  /** Writes every queued entry. Concurrent calls share one run. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.queue.length === 0) return
    this.flushing = this.drain().finally(() => {
      this.flushing = null
    })
    await this.flushing
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.batchSize)
      try {
        await this.o.db.em().insertMany(AuditEntry, batch.map((q) => ({
          id: q.id, timestamp: new Date(q.timestamp), registry: q.registry, action: q.action.slice(0, 32),
          package: q.package?.slice(0, 512) ?? null, version: q.version?.slice(0, 255) ?? null,
          userId: q.userId.slice(0, 255), role: q.role.slice(0, 16), outcome: q.outcome, rule: q.rule, reason: q.reason,
          ip: q.ip?.slice(0, 64) ?? null,
        })))
        this.o.onWritten?.(batch.length)
      } catch (err) {
        // Keep the batch for the next run, within the bound.
        this.queue.unshift(...batch)
        if (this.queue.length > this.maxQueue) {
          const drop = this.queue.length - this.maxQueue
          this.queue.splice(0, drop)
          this.o.onDropped?.(drop)
        }
        this.o.log.warn('audit log write failed; entries kept for the next attempt', { err: (err as Error).message, pending: this.queue.length })
        return
      }
    }
  }

  /** Entries matching the filter, newest first. */
  async query(f: AuditFilter = {}): Promise<AuditEntryJson[]> {
    await this.flush()
    const where: Record<string, unknown> = {}
    if (f.registry) where.registry = f.registry
    if (f.outcome) where.outcome = f.outcome
    if (f.user) where.userId = f.user
    if (f.package) where.package = f.package
    if (f.version) where.version = f.version
    if (f.rule) where.rule = f.rule
    if (f.action) where.action = f.action
    const ts: Record<string, Date> = {}
    if (f.since) ts.$gte = new Date(f.since)
    if (f.until) ts.$lte = new Date(f.until)
    if (Object.keys(ts).length) where.timestamp = ts
    if (f.before) where.id = { $lt: f.before }
    const rows = await this.o.db.em().find(AuditEntry, where, { orderBy: { id: 'desc' }, limit: Math.min(Math.max(f.limit ?? 100, 1), 1000) })
    return rows.map((r) => ({
      id: r.id,
      timestamp: (r.timestamp instanceof Date ? r.timestamp : new Date(r.timestamp as unknown as number)).toISOString(),
      registry: r.registry ?? null,
      action: r.action,
      package: r.package ?? null,
      version: r.version ?? null,
      user_id: r.userId,
      role: r.role,
      outcome: r.outcome === 'deny' ? 'deny' : 'allow',
      rule: r.rule ?? null,
      reason: r.reason ?? null,
      ip: r.ip ?? null,
    }))
  }

  /**
   * Deletes entries older than the retention. Returns how many were removed; -1 when another
   * replica holds the purge lock.
   */
  async purge(): Promise<number> {
    if (this.o.retentionDays <= 0) return 0
    const cutoff = new Date(this.o.clock.now() - this.o.retentionDays * 86_400_000)
    if (this.o.db.dialect !== 'postgresql') return this.o.db.em().nativeDelete(AuditEntry, { timestamp: { $lt: cutoff } })
    return this.o.db.em().transactional(async (em) => {
      const [row] = await em.execute<Array<{ ok: boolean }>>('select pg_try_advisory_xact_lock(?) as ok', [PURGE_LOCK])
      if (!row?.ok) return -1
      return em.nativeDelete(AuditEntry, { timestamp: { $lt: cutoff } })
    })
  }

  /** Stops the timers and writes what is queued. */
  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer)
    if (this.purgeTimer) clearInterval(this.purgeTimer)
    if (this.firstPurge) clearTimeout(this.firstPurge)
    await this.flush().catch(() => {})
    this.closed = true
  }
}
