import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openTestDatabase, testDialects } from '../src/testing/db.ts'
import { LocalPackage, LocalVersion, StorageRef } from '../src/db/entities.ts'
import type { Database } from '../src/db/orm.ts'

for (const dialect of testDialects()) {
  const Db = suite<{ db: Database; close: () => Promise<void> }>(`database (${dialect})`)
  Db.before.each(async (t) => {
    const opened = await openTestDatabase(dialect)
    t.db = opened.db
    t.close = opened.close
  })
  Db.after.each(async (t) => {
    await t.close()
  })

  Db('migrations leave nothing pending and match the entities', async ({ db }) => {
    assert.equal(await db.pendingMigrations(), [])
    // Scoped to this test's schema: other test runs may have schemas of their own on the same server.
    // Introspection lists every schema first; another run's schema dropped meanwhile is retried.
    let diff = ''
    for (let attempt = 1; ; attempt++) {
      try {
        diff = await db.orm.schema.getUpdateSchemaSQL({ wrap: false, dropTables: false, ...(db.schema ? { schema: db.schema } : {}) })
        break
      } catch (err) {
        if (attempt >= 5 || !/does not exist/.test((err as Error).message)) throw err
      }
    }
    assert.is(diff.trim(), '', `schema drift:\n${diff}`)
  })

  Db('packages, versions and unique constraints', async ({ db }) => {
    const em = db.em()
    const pkg = em.create(LocalPackage, { registry: 'npm', name: 'Left-Pad', normalizedName: 'left-pad' })
    em.create(LocalVersion, { package: pkg, version: '1.0.0', publishedAt: new Date('2026-01-02T03:04:05Z'), metadata: { a: 1 } })
    await em.flush()
    const found = await db.em().findOneOrFail(LocalVersion, { package: { normalizedName: 'left-pad' } }, { populate: ['package'] })
    assert.is(found.version, '1.0.0')
    assert.is(found.package.name, 'Left-Pad')
    assert.equal(found.metadata, { a: 1 })
    assert.is(found.publishedAt.toISOString(), '2026-01-02T03:04:05.000Z')
    const em2 = db.em()
    em2.create(LocalVersion, { package: em2.getReference(LocalPackage, pkg.id), version: '1.0.0', publishedAt: new Date() })
    let failed = false
    try {
      await em2.flush()
    } catch (err) {
      failed = (err as Error).name === 'UniqueConstraintViolationException'
    }
    assert.ok(failed, 'a repeated version must violate the unique constraint')
  })

  Db('bigint sizes round-trip as numbers', async ({ db }) => {
    const em = db.em()
    em.create(StorageRef, { backend: 'default', key: 'npm/a.tgz', sha256: 'a'.repeat(64), size: 5_000_000_000 })
    await em.flush()
    const ref = await db.em().findOneOrFail(StorageRef, { key: 'npm/a.tgz' })
    assert.is(ref.size, 5_000_000_000)
  })

  Db('ping answers', async ({ db }) => {
    await db.ping()
  })

  Db.run()
}
