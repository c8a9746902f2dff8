// Generates a migration for each dialect from the kernel's entities (run after changing
// kernel/src/db/entities.ts, with the kernel built):
//
//   npm run build && node scripts/gen-migrations.mjs [name]
//
// SQLite is diffed against a scratch file database, PostgreSQL against a scratch schema of
// a scratch database on BATLEHUB_TEST_PG_URL's server, each brought up to date with the existing
// migrations first, so only the difference is written.
import './guard-node.mjs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const { openDatabase, migrationsRoot } = await import('../kernel/dist/src/db/orm.js')
const name = process.argv[2] || 'schema'
const root = migrationsRoot()

const dir = mkdtempSync(join(tmpdir(), 'bh-gen-'))
try {
  const sqlite = await openDatabase({ type: 'sqlite', path: join(dir, 'gen.db') })
  const r1 = await sqlite.orm.migrator.create(join(root, 'sqlite'), false, false, name)
  console.log('sqlite:', r1.fileName || '(no changes)')
  await sqlite.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

// A scratch database, not a schema: migrations must stay unqualified so that they apply to any
// database and, in tests, to any schema on the search_path.
const base = process.env.BATLEHUB_TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres'
const scratch = `bh_gen_${process.pid}`
const admin = await openDatabase({ type: 'postgresql', url: base }, { migrate: false })
await admin.execute(`create database "${scratch}"`)
try {
  const u = new URL(base)
  u.pathname = `/${scratch}`
  const pg = await openDatabase({ type: 'postgresql', url: u.toString() })
  try {
    const r2 = await pg.orm.migrator.create(join(root, 'postgresql'), false, false, name)
    console.log('postgresql:', r2.fileName || '(no changes)')
  } finally {
    await pg.close()
  }
} finally {
  await admin.execute(`drop database if exists "${scratch}"`)
  await admin.close()
}
