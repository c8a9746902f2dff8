import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openTestDatabase, testDialects } from '../src/testing/db.ts'
import type { Database } from '../src/db/orm.ts'
import { FilesystemBackend } from '../src/storage/filesystem.ts'
import { S3Backend } from '../src/storage/s3.ts'
import { StorageManager, type StorageConfig } from '../src/storage/manager.ts'
import { startFakeS3, type FakeS3 } from '../src/storage/testing.ts'

/** A port nothing listens on: bound once on port 0, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function configError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn()
    assert.unreachable('expected a StorageConfigError')
  } catch (err) {
    assert.is((err as Error).name, 'StorageConfigError')
    assert.match((err as Error).message, pattern)
  }
}

for (const dialect of testDialects()) {
  interface Ctx { db: Database; closeDb: () => Promise<void>; dir: string; s3: FakeS3; manager?: StorageManager }
  const Manager = suite<Ctx>(`storage manager (${dialect})`)
  Manager.before.each(async (t) => {
    const opened = await openTestDatabase(dialect)
    t.db = opened.db
    t.closeDb = opened.close
    t.dir = await mkdtemp(join(tmpdir(), 'bh-manager-'))
    t.s3 = await startFakeS3()
  })
  Manager.after.each(async (t) => {
    await t.manager?.close()
    t.manager = undefined
    await t.s3.close()
    await t.closeDb()
    await rm(t.dir, { recursive: true, force: true })
  })

  Manager('builds the default and named backends, one CAS each', async (t) => {
    const config: StorageConfig = {
      type: 'filesystem', path: join(t.dir, 'main'),
      backends: [
        { name: 'github-s3', ...t.s3.config },
        { name: 'spare', type: 'filesystem' },
      ],
    }
    const manager = t.manager = new StorageManager(config, t.db, { dataDir: t.dir })
    assert.equal(manager.names, ['default', 'github-s3', 'spare'])
    assert.ok(manager.get() instanceof FilesystemBackend)
    assert.is(manager.get('default'), manager.get())
    assert.ok(manager.get('github-s3') instanceof S3Backend)
    assert.is((manager.get('spare') as FilesystemBackend).root, join(t.dir, 'storage-spare'))
    assert.is(manager.cas('github-s3'), manager.cas('github-s3'))
    assert.is(manager.cas(), manager.cas('default'))
    await manager.init()
    assert.ok(existsSync(join(t.dir, 'main', '.tmp')))

    // The same key on two backends: separate refs, separate blobs.
    await manager.cas().put({ key: 'k', body: 'on the filesystem' })
    await manager.cas('github-s3').put({ key: 'k', body: 'in the bucket' })
    assert.is((await manager.cas().head('k'))!.size, 17)
    assert.is((await manager.cas('github-s3').head('k'))!.size, 13)
    assert.is(await manager.cas('spare').head('k'), null)
    const scoped = manager.cas('github-s3').scoped('github')
    await scoped.put({ key: 'releases/x.zip', body: 'zip' })
    assert.ok(await manager.cas('github-s3').head('registries/github/releases/x.zip'))

    const health = await manager.check()
    assert.equal(health, [
      { name: 'default', kind: 'filesystem', ok: true },
      { name: 'github-s3', kind: 's3', ok: true },
      { name: 'spare', kind: 'filesystem', ok: true },
    ])
  })

  Manager('the default backend is a filesystem under the data directory when nothing is configured', async (t) => {
    const manager = t.manager = new StorageManager(undefined, t.db, { dataDir: t.dir })
    assert.equal(manager.names, ['default'])
    assert.is((manager.get() as FilesystemBackend).root, join(t.dir, 'storage'))
    const s3 = new StorageManager({ ...t.s3.config, endpoint_url: undefined, endpoint: t.s3.endpoint }, t.db)
    assert.equal(await s3.check(), [{ name: 'default', kind: 's3', ok: true }])
    await s3.close()
  })

  Manager('an unknown backend name is an error naming the configured ones', async (t) => {
    const manager = t.manager = new StorageManager({ type: 'filesystem', path: join(t.dir, 'main'), backends: [{ name: 'b2', type: 'filesystem' }] }, t.db, { dataDir: t.dir })
    configError(() => manager.get('nope'), /unknown storage backend "nope" \(configured: default, b2\)/)
    configError(() => manager.cas('nope'), /"nope"/)
  })

  Manager('bad configurations are refused with the key path', async (t) => {
    configError(() => new StorageManager({ type: 'filesystem', backends: [{ name: 'default', type: 'filesystem' }] }, t.db), /storage\.backends\[0\]\.name: "default" is used twice/)
    configError(() => new StorageManager({ type: 'filesystem', backends: [{ name: 'a', type: 'filesystem' }, { name: 'a', type: 'filesystem' }] }, t.db), /backends\[1\]\.name/)
    configError(() => new StorageManager({ type: 'filesystem', backends: [{ name: '../x', type: 'filesystem' }] }, t.db), /backends\[0\]\.name/)
    configError(() => new StorageManager({ type: 'gcs' } as never, t.db), /storage: unknown storage type "gcs"/)
    configError(() => new StorageManager({ type: 'filesystem', backends: [{ name: 's', type: 's3' } as never] }, t.db), /storage\.backends\[0\]: bucket is required/)
    configError(() => new StorageManager({ ...t.s3.config, secret_access_key: undefined }, t.db), /^storage: .*access_key_id and secret_access_key/)
  })

  Manager('check() reports broken backends by name without throwing', async (t) => {
    await writeFile(join(t.dir, 'a-file'), 'not a directory')
    const port = await closedPort()
    const manager = t.manager = new StorageManager({
      type: 'filesystem', path: join(t.dir, 'a-file'),
      backends: [
        { name: 'offline-s3', type: 's3', bucket: 'b', endpoint_url: `http://127.0.0.1:${port}`, force_path_style: true, access_key_id: 'k', secret_access_key: 's' },
        { name: 'no-bucket', ...t.s3.config, bucket: 'missing' },
        { name: 'fine', type: 'filesystem', path: join(t.dir, 'fine') },
      ],
    }, t.db)
    await manager.init() // logs, never throws
    const health = await manager.check()
    assert.equal(health.map((h) => [h.name, h.ok]), [['default', false], ['offline-s3', false], ['no-bucket', false], ['fine', true]])
    assert.match(health[0]!.error!, /storage "default" at .*a-file: (EEXIST|ENOTDIR)/)
    assert.match(health[1]!.error!, new RegExp(`s3 storage "offline-s3" \\(bucket "b" at http://127\\.0\\.0\\.1:${port}\\): .*ECONNREFUSED`))
    assert.match(health[2]!.error!, /s3 storage "no-bucket" .*NoSuchBucket/)
    assert.is(health[3]!.error, undefined)
    for (const h of health) assert.not.match(h.error ?? '', /S3RVER|secret/, 'no credentials in health output')
    await manager.close()
    await manager.close() // idempotent
  })

  Manager.run()
}
