/**
 * Small SQL helpers shared by the local store's raw queries (aggregates, upserts), which MikroORM's
 * entity API does not express.
 */
import type { Database } from '../db/orm.ts'

/** A table name, schema-qualified on PostgreSQL when the database uses a schema (tests). */
export function qualified(db: Database, table: string): string {
  return db.dialect === 'postgresql' && db.schema ? `"${db.schema.replace(/"/g, '')}"."${table}"` : `"${table}"`
}

/** A datetime parameter: MikroORM keeps SQLite datetimes as epoch milliseconds. */
export function sqlTime(db: Database, epochMs: number): Date | number {
  return db.dialect === 'sqlite' ? epochMs : new Date(epochMs)
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

/** Whether an error is a transient conflict worth running the transaction again for. */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null
  return ['DeadlockException', 'LockWaitTimeoutException'].includes(e?.name ?? '')
    || ['40P01', '40001', 'SQLITE_BUSY'].includes(e?.code ?? '')
}
