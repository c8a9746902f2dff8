/**
 * Download accounting, off the hot path: a download only bumps a counter in memory; a timer (and
 * kernel shutdown) flushes the counters in batches as upserts into `package_statuses`
 * (`download_count += n`, last access, first seen, publish time) and `cached_artifacts`
 * (last access, which eviction reads). Several replicas add up correctly because every flush adds
 * its increments to what the database holds.
 *
 * One instance per kernel, shared by the proxy cache (cached artifacts) and the local stores
 * (published files, keyed by their storage key, which no `cached_artifacts` row has).
 */
import { randomInt } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { LoggerService } from '@batlehub/sdk'
import { isTransient, type Sql } from '../db/sql.ts'

export interface AccessRecord {
  registry: string
  /** The artifact's storage key within the registry. */
  key: string
  name: string
  version?: string
  /** ISO-8601, when the protocol gives one. */
  publishedAt?: string
  /** 1 for a download, 0 for an access that is not one (HEAD, a range request). */
  count: number
  /** Epoch milliseconds. */
  at: number
}

interface Pending {
  registry: string
  key: string
  name: string
  version?: string
  publishedAt?: number
  count: number
  first: number
  last: number
}

const BATCH = 200

export interface AccountingOptions {
  /** Flush period in ms; default 5 s; 0 flushes only on demand and at close. */
  intervalMs?: number
  /** Flush early once this many accesses are pending (bounds memory); default 1000. */
  maxPending?: number
}

export class Accounting {
  private pending = new Map<string, Pending>()
  private chain: Promise<unknown> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined

  private readonly intervalMs: number
  private readonly maxPending: number

  constructor(private readonly sql: Sql, private readonly log: LoggerService, options: AccountingOptions = {}) {
    this.intervalMs = options.intervalMs ?? 5000
    this.maxPending = options.maxPending ?? 1000
  }

  /** Counts an access in memory; never touches the database. */
  record(r: AccessRecord): void {
    const id = `${r.registry}\0${r.key}\0${r.version ?? ''}`
    const p = this.pending.get(id)
    if (p) {
      p.count += r.count
      if (r.at > p.last) p.last = r.at
      if (r.at < p.first) p.first = r.at
      return
    }
    const published = r.publishedAt ? Date.parse(r.publishedAt) : NaN
    this.pending.set(id, {
      registry: r.registry, key: r.key, name: r.name, version: r.version, count: r.count, first: r.at, last: r.at,
      ...(Number.isNaN(published) ? {} : { publishedAt: published }),
    })
    if (this.pending.size >= this.maxPending) this.flush().catch(() => {})
  }

  /** Accesses not yet written. */
  get size(): number {
    return this.pending.size
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return
    this.timer = setInterval(() => {
      if (this.pending.size) this.flush().catch(() => {})
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Writes every pending access; concurrent calls run one after the other. */
  flush(): Promise<{ versions: number; artifacts: number }> {
    const run = this.chain.then(() => this.write())
    this.chain = run.catch(() => {})
    return run
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush().catch(() => {})
  }

  private async write(): Promise<{ versions: number; artifacts: number }> {
    if (this.pending.size === 0) return { versions: 0, artifacts: 0 }
    const batch = this.pending
    this.pending = new Map()
    // One row per version (several artifacts of a version add up), one update per artifact.
    const versions = new Map<string, Pending>()
    for (const p of batch.values()) {
      if (p.version === undefined || p.version === '') continue
      const id = `${p.registry}\0${p.name}\0${p.version}`
      const v = versions.get(id)
      if (!v) versions.set(id, { ...p })
      else {
        v.count += p.count
        v.first = Math.min(v.first, p.first)
        v.last = Math.max(v.last, p.last)
        v.publishedAt ??= p.publishedAt
      }
    }
    const artifacts = new Map<string, Pending>()
    for (const p of batch.values()) {
      const id = `${p.registry}\0${p.key}`
      const a = artifacts.get(id)
      if (!a || a.last < p.last) artifacts.set(id, p)
    }
    try {
      await this.transaction(async (q) => {
        const rows = [...versions.values()]
        for (let i = 0; i < rows.length; i += BATCH) await this.upsertStatuses(q, rows.slice(i, i + BATCH))
        const touch = `update ${this.sql.table('cached_artifacts')} set last_accessed_at = ?
          where registry = ? and storage_key = ? and (last_accessed_at is null or last_accessed_at < ?)`
        for (const a of artifacts.values()) await q(touch, [this.sql.time(a.last), a.registry, a.key, this.sql.time(a.last)])
      })
      return { versions: versions.size, artifacts: artifacts.size }
    } catch (err) {
      // Keep the counts for the next flush rather than lose them.
      for (const [id, p] of batch) {
        const now = this.pending.get(id)
        if (!now) this.pending.set(id, p)
        else {
          now.count += p.count
          now.first = Math.min(now.first, p.first)
          now.last = Math.max(now.last, p.last)
        }
      }
      this.log.warn('cannot write download accounting; will retry', { error: (err as Error).message })
      throw err
    }
  }

  private async upsertStatuses(q: Query, rows: Pending[]): Promise<void> {
    const s = this.sql
    const values = rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')
    const params: unknown[] = []
    for (const r of rows) {
      params.push(r.registry, r.name, r.version, r.count, s.time(r.first), s.time(r.last), r.publishedAt === undefined ? null : s.time(r.publishedAt))
    }
    await q(
      `insert into ${s.table('package_statuses')} as s (registry, package_name, package_version, download_count, first_seen_at, last_accessed_at, published_at)
       values ${values}
       on conflict (registry, package_name, package_version) do update set
         download_count = s.download_count + excluded.download_count,
         last_accessed_at = case when s.last_accessed_at is null or s.last_accessed_at < excluded.last_accessed_at
           then excluded.last_accessed_at else s.last_accessed_at end,
         published_at = coalesce(s.published_at, excluded.published_at)`,
      params)
  }

  private async transaction(fn: (q: Query) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sql.db.em().transactional(async (em) => fn((sql, params = []) => em.execute(sql, params as unknown[], 'all')))
        return
      } catch (err) {
        if (attempt >= 5 || !isTransient(err)) throw err
        await delay(attempt * 10 + randomInt(20))
      }
    }
  }
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>
