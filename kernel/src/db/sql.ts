/**
 * Raw-SQL helpers for the queries MikroORM's entity API does not express (aggregates, batched
 * upserts, row locks): schema-qualified table names, the datetime form of each dialect (MikroORM
 * keeps SQLite datetimes as epoch milliseconds; PostgreSQL takes Dates), reading datetimes back,
 * and classifying driver errors. The single home of these rules for every kernel subsystem.
 */
import type { Database } from './orm.ts'

/** A table name, schema-qualified on PostgreSQL when the database uses a schema (tests). */
export function qualified(db: Database, table: string): string {
  return db.dialect === 'postgresql' && db.schema ? `"${db.schema.replace(/"/g, '')}"."${table}"` : `"${table}"`
}

/** A datetime parameter: epoch milliseconds on SQLite, a Date on PostgreSQL. */
export function sqlTime(db: Database, epochMs: number): Date | number {
  return db.dialect === 'sqlite' ? epochMs : new Date(epochMs)
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

/** A datetime read back from a raw query. */
export function fromSqlTime(value: unknown): Date {
  if (value instanceof Date) return value
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value))
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value))
  return new Date(String(value))
}

/** Whether an error is a unique-constraint violation (either dialect, through MikroORM or not). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null
  return e?.name === 'UniqueConstraintViolationException' || e?.code === '23505'
    || (e?.code === 'SQLITE_CONSTRAINT_UNIQUE') || /UNIQUE constraint failed/i.test(e?.message ?? '')
}

/** Whether an error is a transient conflict (deadlock, serialization failure, busy) worth running the transaction again for. */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null
  return ['DeadlockException', 'LockWaitTimeoutException'].includes(e?.name ?? '')
    || ['40P01', '40001', 'SQLITE_BUSY'].includes(e?.code ?? '')
}

/** The helpers above bound to one database, for subsystems that issue many raw queries. */
export class Sql {
  readonly pg: boolean

  constructor(readonly db: Database) {
    this.pg = db.dialect === 'postgresql'
  }

  table(name: string): string {
    return qualified(this.db, name)
  }

  /** A datetime parameter. */
  time(ms: number): Date | number {
    return sqlTime(this.db, ms)
  }

  /** The larger of two datetime expressions. */
  greatest(a: string, b: string): string {
    return this.pg ? `greatest(${a}, ${b})` : `max(${a}, ${b})`
  }

  execute<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.db.execute<T>(sql, params)
  }
}
