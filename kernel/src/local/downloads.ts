/**
 * Download accounting off the hot path: counts are summed in memory and written to
 * `package_statuses` in batches (one upsert per version per flush), never one write per download.
 */
import type { LoggerService } from '@batlehub/sdk'
import type { Database } from '../db/orm.ts'
import { qualified, sqlTime } from './sql.ts'

interface Pending {
  registry: string
  name: string
  version: string
  count: number
  last: number
}

export interface DownloadCounterOptions {
  db: Database
  log: LoggerService
  now: () => number
  /** Flush period in ms; default 5 s. */
  intervalMs?: number
  /** Flush early once this many versions are pending; default 1000. */
  maxPending?: number
}

export class DownloadCounter {
  private pending = new Map<string, Pending>()
  private readonly timer: NodeJS.Timeout
  private flushing: Promise<void> = Promise.resolve()
  private readonly table: string

  constructor(private readonly o: DownloadCounterOptions) {
    this.table = qualified(o.db, 'package_statuses')
    this.timer = setInterval(() => void this.flush(), o.intervalMs ?? 5000)
    this.timer.unref()
  }

  /** Counts one download. */
  add(registry: string, name: string, version: string): void {
    const key = JSON.stringify([registry, name, version])
    const entry = this.pending.get(key)
    const now = this.o.now()
    if (entry) {
      entry.count++
      entry.last = now
    } else {
      this.pending.set(key, { registry, name, version, count: 1, last: now })
      if (this.pending.size >= (this.o.maxPending ?? 1000)) void this.flush()
    }
  }

  /** Writes what is pending; flushes run one at a time. A failed batch is merged back and retried later. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write())
    return this.flushing
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = [...this.pending.values()]
    this.pending = new Map()
    const at = (ms: number) => sqlTime(this.o.db, ms)
    try {
      await this.o.db.em().transactional(async (em) => {
        for (const p of batch) {
          await em.execute(
            `insert into ${this.table} as s (registry, package_name, package_version, download_count, first_seen_at, last_accessed_at)
             values (?, ?, ?, ?, ?, ?)
             on conflict (registry, package_name, package_version) do update
             set download_count = s.download_count + excluded.download_count, last_accessed_at = excluded.last_accessed_at`,
            [p.registry, p.name, p.version, p.count, at(p.last), at(p.last)],
          )
        }
      })
    } catch (err) {
      this.o.log.warn('cannot write download counts; retrying later', { error: (err as Error).message, versions: batch.length })
      for (const p of batch) {
        const key = JSON.stringify([p.registry, p.name, p.version])
        const entry = this.pending.get(key)
        if (entry) {
          entry.count += p.count
          entry.last = Math.max(entry.last, p.last)
        } else {
          this.pending.set(key, p)
        }
      }
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}
