/**
 * The PostgreSQL shared store (`[cache] type = "postgres"`): counters in `rate_limit_counters`
 * (one upsert per counted request, returning the new count), blocks in `ip_blocks`. Every replica
 * on the same database shares them.
 */
import type { Database } from '../../db/orm.ts'
import { isActive, type IpBlockRecord, type SharedStore } from './types.ts'

type Row = Record<string, unknown>

function toMs(v: unknown): number | null {
  if (v === null || v === undefined) return null
  if (v instanceof Date) return v.getTime()
  if (typeof v === 'number') return v
  return Date.parse(String(v))
}

export class PostgresStore implements SharedStore {
  readonly kind = 'postgres' as const
  private readonly counters: string
  private readonly blocks: string

  constructor(private readonly db: Database) {
    if (db.dialect !== 'postgresql') throw new Error('[cache] type = "postgres" needs database.type = "postgresql"')
    const table = (name: string) => (db.schema ? `"${db.schema.replace(/"/g, '')}"."${name}"` : `"${name}"`)
    this.counters = table('rate_limit_counters')
    this.blocks = table('ip_blocks')
  }

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    const rows = await this.db.execute<Row>(
      `insert into ${this.counters} ("key", "window_start", "count", "expires_at") values (?, ?, 1, ?)
       on conflict ("key", "window_start") do update set "count" = ${this.counters}."count" + 1
       returning "count"`,
      [key, windowStart, new Date(windowStart + windowMs)],
    )
    return Number(rows[0]?.count ?? 1)
  }

  async putIpBlock(b: IpBlockRecord): Promise<void> {
    await this.db.execute(
      `insert into ${this.blocks} ("ip", "reason", "source", "blocked_by", "blocked_at", "expires_at") values (?, ?, ?, ?, ?, ?)
       on conflict ("ip") do update set "reason" = excluded."reason", "source" = excluded."source",
         "blocked_by" = excluded."blocked_by", "blocked_at" = excluded."blocked_at", "expires_at" = excluded."expires_at"`,
      [b.ip, b.reason, b.source, b.blockedBy, new Date(b.blockedAt), b.expiresAt === null ? null : new Date(b.expiresAt)],
    )
  }

  async deleteIpBlock(ip: string): Promise<boolean> {
    const rows = await this.db.execute<Row>(`delete from ${this.blocks} where "ip" = ? returning "ip"`, [ip])
    return rows.length > 0
  }

  async listIpBlocks(now: number): Promise<IpBlockRecord[]> {
    const rows = await this.db.execute<Row>(
      `select "ip", "reason", "source", "blocked_by", "blocked_at", "expires_at" from ${this.blocks}
       where "expires_at" is null or "expires_at" > ? order by "blocked_at" desc`,
      [new Date(now)],
    )
    return rows.map((r) => ({
      ip: String(r.ip),
      reason: (r.reason as string | null) ?? null,
      source: r.source === 'auto' ? 'auto' : 'manual',
      blockedBy: (r.blocked_by as string | null) ?? null,
      blockedAt: toMs(r.blocked_at) ?? 0,
      expiresAt: toMs(r.expires_at),
    } satisfies IpBlockRecord)).filter((b) => isActive(b, now))
  }

  async sweep(now: number): Promise<void> {
    const at = new Date(now)
    await this.db.execute(`delete from ${this.counters} where "expires_at" <= ?`, [at])
    await this.db.execute(`delete from ${this.blocks} where "expires_at" is not null and "expires_at" <= ?`, [at])
  }

  async close(): Promise<void> {
    // The database belongs to the kernel.
  }
}
