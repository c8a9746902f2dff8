/**
 * Databases for tests: every database test runs on SQLite and, when `BATLEHUB_TEST_PG_URL` is set
 * (CI sets it), on PostgreSQL too, each in a fresh schema that is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { openDatabase, type Database, type Dialect, type DatabaseSettings } from '../db/orm.ts'

/** The dialects this test run covers. */
export function testDialects(): Dialect[] {
  return process.env.BATLEHUB_TEST_PG_URL ? ['sqlite', 'postgresql'] : ['sqlite']
}

/** Settings for a throw-away database of the dialect, and a function that removes it. */
export async function testDatabaseSettings(dialect: Dialect): Promise<{ settings: DatabaseSettings; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bh-db-'))
    return { settings: { type: 'sqlite', path: join(dir, 'test.db') }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const url = process.env.BATLEHUB_TEST_PG_URL
  if (!url) throw new Error('BATLEHUB_TEST_PG_URL is not set')
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  return {
    settings: { type: 'postgresql', url, schema, maxConnections: 5 },
    cleanup: async () => {
      const admin = await openDatabase({ type: 'postgresql', url }, { migrate: false })
      try {
        await admin.execute(`drop schema if exists "${schema}" cascade`)
      } finally {
        await admin.close()
      }
    },
  }
}

/** Opens a migrated throw-away database. `close()` closes and removes it. */
export async function openTestDatabase(dialect: Dialect): Promise<{ db: Database; close: () => Promise<void> }> {
  const { settings, cleanup } = await testDatabaseSettings(dialect)
  const db = await openDatabase(settings)
  return {
    db,
    close: async () => {
      await db.close()
      await cleanup()
    },
  }
}
