/**
 * Raw-SQL helpers shared by the cache's tables: schema-qualified names and the datetime form of
 * each dialect (MikroORM keeps SQLite datetimes as epoch milliseconds; PostgreSQL takes Dates).
 */
import type { Database } from '../db/orm.ts'

export class Sql {
  readonly pg: boolean

  constructor(readonly db: Database) {
    this.pg = db.dialect === 'postgresql'
  }

  table(name: string): string {
    return this.pg && this.db.schema ? `"${this.db.schema.replace(/"/g, '')}"."${name}"` : `"${name}"`
  }

  /** A datetime parameter. */
  time(ms: number): Date | number {
    return this.pg ? new Date(ms) : ms
  }

  /** The larger of two datetime expressions. */
  greatest(a: string, b: string): string {
    return this.pg ? `greatest(${a}, ${b})` : `max(${a}, ${b})`
  }

  execute<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.execute<T>(sql, params)
  }
}

/** Epoch milliseconds of a datetime column value, null for null. */
export function msOf(value: unknown): number | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value)
  const t = Date.parse(String(value))
  return Number.isNaN(t) ? null : t
}

/** ISO-8601 of a datetime column value, null for null. */
export function isoOf(value: unknown): string | null {
  const ms = msOf(value)
  return ms === null ? null : new Date(ms).toISOString()
}
