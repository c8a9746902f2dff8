import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { CreateMultipartUploadCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import type { StorageBackend } from '../src/storage/backend.ts'
import { FilesystemBackend } from '../src/storage/filesystem.ts'
import { S3Backend } from '../src/storage/s3.ts'
import { failingBody, leftovers, startFakeS3, type FakeS3 } from '../src/storage/testing.ts'

const MiB = 1024 * 1024

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

async function store(backend: StorageBackend, key: string, data: Buffer | string): Promise<void> {
  const pending = await backend.beginWrite()
  try {
    await pending.write(Readable.from([Buffer.from(data)]))
    await pending.publish(key)
  } finally {
    await pending.discard()
  }
}

async function keys(backend: StorageBackend, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const entry of backend.list(prefix)) out.push(entry.key)
  return out.sort()
}

interface Ctx {
  backend: StorageBackend
  dir: string
  s3?: FakeS3
}

const kinds: Record<string, (t: Ctx) => Promise<void>> = {
  filesystem: async (t) => {
    t.backend = new FilesystemBackend('test', { path: join(t.dir, 'root') })
  },
  s3: async (t) => {
    t.s3 = await startFakeS3()
    t.backend = new S3Backend('test', t.s3.config)
  },
}

for (const [kind, open] of Object.entries(kinds)) {
  const Backend = suite<Ctx>(`storage backend contract (${kind})`)
  Backend.before.each(async (t) => {
    t.dir = await mkdtemp(join(tmpdir(), 'bh-storage-'))
    await open(t)
  })
  Backend.after.each(async (t) => {
    await t.backend.close()
    await t.s3?.close()
    t.s3 = undefined
    await rm(t.dir, { recursive: true, force: true })
  })

  Backend('write, publish, read, stat, exists, delete', async ({ backend }) => {
    assert.is(backend.kind, kind)
    assert.is(await backend.read('a/b.txt'), null)
    assert.is(await backend.stat('a/b.txt'), null)
    await store(backend, 'a/b.txt', 'hello world')
    assert.ok(await backend.exists('a/b.txt'))
    assert.is((await backend.stat('a/b.txt'))?.size, 11)
    const read = await backend.read('a/b.txt')
    assert.is(read?.size, 11)
    assert.is(await text(read!.body), 'hello world')
    await backend.delete('a/b.txt')
    assert.not.ok(await backend.exists('a/b.txt'))
    await backend.delete('a/b.txt') // absent is fine
    assert.equal(await leftovers(backend), { temp: [], uploads: [] })
  })

  Backend('nothing is visible before publish, and discard keeps what was published', async ({ backend }) => {
    const pending = await backend.beginWrite()
    assert.is(await pending.write(Readable.from([Buffer.from('abc'), Buffer.from('def')])), 6)
    assert.is(pending.size, 6)
    assert.equal(await keys(backend, ''), [])
    await pending.publish('x/one')
    await pending.publish('x/two') // publish is repeatable while the temporary copy is kept
    await pending.discard()
    await pending.discard()
    assert.equal(await keys(backend, 'x/'), ['x/one', 'x/two'])
    assert.is(await text((await backend.read('x/two'))!.body), 'abcdef')
    assert.equal(await leftovers(backend), { temp: [], uploads: [] })
  })

  Backend('publish replaces an existing object', async ({ backend }) => {
    await store(backend, 'k', 'old bytes')
    await store(backend, 'k', 'new')
    assert.is(await text((await backend.read('k'))!.body), 'new')
    assert.is((await backend.stat('k'))?.size, 3)
  })

  Backend('range reads are inclusive and clamped', async ({ backend }) => {
    await store(backend, 'r', '0123456789')
    const part = await backend.read('r', { start: 2, end: 4 })
    assert.is(part?.size, 10)
    assert.is(await text(part!.body), '234')
    assert.is(await text((await backend.read('r', { start: 7 }))!.body), '789')
    assert.is(await text((await backend.read('r', { start: 8, end: 99 }))!.body), '89')
    assert.is(await text((await backend.read('r', { start: 20 }))!.body), '')
  })

  Backend('a body that fails halfway leaves no object and no temporary data', async ({ backend }) => {
    const pending = await backend.beginWrite()
    try {
      await pending.write(failingBody(12 * MiB)) // past the first S3 part: a multipart upload is in flight
      assert.unreachable('the write should fail')
    } catch (err) {
      assert.is((err as Error).message, 'connection reset by peer')
    }
    await pending.discard()
    assert.equal(await keys(backend, ''), [])
    assert.equal(await leftovers(backend), { temp: [], uploads: [] })
    try {
      await pending.publish('never')
      assert.unreachable('a failed write cannot be published')
    } catch (err) {
      assert.match((err as Error).message, /cannot publish/)
    }
  })

  Backend('a small body that fails leaves nothing either', async ({ backend }) => {
    const pending = await backend.beginWrite()
    await pending.write(failingBody(3000)).then(() => assert.unreachable(), () => {})
    await pending.discard()
    assert.equal(await leftovers(backend), { temp: [], uploads: [] })
  })

  Backend('list filters by prefix and hides temporary data', async ({ backend }) => {
    for (const key of ['blob/aa', 'blob/ab', 'blobby', 'other/x/y']) await store(backend, key, key)
    const pending = await backend.beginWrite()
    await pending.write(Readable.from([Buffer.from('unpublished')]))
    assert.equal(await keys(backend, 'blob/'), ['blob/aa', 'blob/ab'])
    assert.equal(await keys(backend, 'blob'), ['blob/aa', 'blob/ab', 'blobby'])
    assert.equal(await keys(backend, 'other/x'), ['other/x/y'])
    assert.equal(await keys(backend, 'nothing/'), [])
    assert.equal(await keys(backend, ''), ['blob/aa', 'blob/ab', 'blobby', 'other/x/y'])
    const sizes: Record<string, number> = {}
    for await (const e of backend.list('blob/')) sizes[e.key] = e.size
    assert.equal(sizes, { 'blob/aa': 7, 'blob/ab': 7 })
    await pending.discard()
  })

  Backend('keys are validated and .tmp/ is reserved', async ({ backend }) => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', 'a/./b', 'a\0b', '.tmp/x', '.tmp', 'x'.repeat(1025)]) {
      for (const op of [() => backend.read(key), () => backend.stat(key), () => backend.delete(key)]) {
        try {
          await op()
          assert.unreachable(`accepted ${JSON.stringify(key.slice(0, 20))}`)
        } catch (err) {
          assert.is((err as { code?: string }).code, 'BH_INPUT', `key ${JSON.stringify(key.slice(0, 20))}`)
        }
      }
    }
    const pending = await backend.beginWrite()
    await pending.write(Readable.from([Buffer.from('x')]))
    for (const key of ['../escape', '.tmp/x']) {
      await pending.publish(key).then(() => assert.unreachable(), (err) => assert.is(err.code, 'BH_INPUT'))
    }
    await pending.discard()
    for (const prefix of ['../', '/abs', 'a//b']) {
      try {
        for await (const _ of backend.list(prefix)) break
        assert.unreachable(`listed ${prefix}`)
      } catch (err) {
        assert.is((err as { code?: string }).code, 'BH_INPUT')
      }
    }
  })

  Backend('a streamed 20 MiB object round-trips with the same sha256', async ({ backend }) => {
    const hashIn = createHash('sha256')
    async function* generate() {
      let seed = Buffer.from('batlehub')
      for (let sent = 0; sent < 20 * MiB; sent += 64 * 1024) {
        seed = createHash('sha512').update(seed).digest()
        const chunk = Buffer.alloc(64 * 1024)
        for (let i = 0; i < chunk.length; i += seed.length) seed.copy(chunk, i)
        hashIn.update(chunk)
        yield chunk
      }
    }
    const pending = await backend.beginWrite()
    assert.is(await pending.write(generate()), 20 * MiB)
    await pending.publish('big/object')
    await pending.discard()
    const read = await backend.read('big/object')
    assert.is(read?.size, 20 * MiB)
    const hashOut = createHash('sha256')
    for await (const chunk of read!.body) hashOut.update(chunk as Buffer)
    assert.is(hashOut.digest('hex'), hashIn.digest('hex'))
    assert.equal(await leftovers(backend), { temp: [], uploads: [] })
  })

  Backend('check() writes, reads and deletes a probe', async ({ backend }) => {
    await backend.check()
    assert.equal(await keys(backend, ''), [])
    assert.equal((await leftovers(backend)).temp, [])
  })

  Backend.run()
}

const Fs = suite<{ dir: string }>('filesystem backend')
Fs.before.each(async (t) => {
  t.dir = await mkdtemp(join(tmpdir(), 'bh-storage-'))
})
Fs.after.each(async (t) => {
  await rm(t.dir, { recursive: true, force: true })
})

Fs('stale temporary files are swept at start, fresh ones stay', async ({ dir }) => {
  const root = join(dir, 'root')
  await mkdir(join(root, '.tmp'), { recursive: true })
  await writeFile(join(root, '.tmp', 'stale'), 'x')
  await writeFile(join(root, '.tmp', 'fresh'), 'y')
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000)
  await utimes(join(root, '.tmp', 'stale'), twoHoursAgo, twoHoursAgo)
  const backend = new FilesystemBackend('t', { path: root })
  await backend.ready()
  assert.equal(await readdir(join(root, '.tmp')), ['fresh'])
  await backend.close()
})

Fs('objects are plain files under the root; nothing is written beside it', async ({ dir }) => {
  const backend = new FilesystemBackend('t', { path: join(dir, 'root') })
  await store(backend, 'blob/abc', 'data')
  assert.ok(existsSync(join(dir, 'root', 'blob', 'abc')))
  assert.equal(await readdir(dir), ['root'])
  for (const key of ['../escape', '../../escape']) await store(backend, key, 'x').then(() => assert.unreachable(), () => {})
  assert.equal(await readdir(dir), ['root'])
  await backend.close()
})

Fs('a planted symlink is not followed on read', async ({ dir }) => {
  const { symlink } = await import('node:fs/promises')
  await writeFile(join(dir, 'secret'), 'secret')
  const backend = new FilesystemBackend('t', { path: join(dir, 'root') })
  await backend.ready()
  await symlink(join(dir, 'secret'), join(dir, 'root', 'link'))
  assert.is(await backend.read('link'), null)
  await backend.close()
})

Fs('a root that is a file fails check() with the path', async ({ dir }) => {
  await writeFile(join(dir, 'file'), 'not a directory')
  const backend = new FilesystemBackend('broken', { path: join(dir, 'file') })
  try {
    await backend.check()
    assert.unreachable('check should fail')
  } catch (err) {
    assert.match((err as Error).message, /filesystem storage "broken" at .*file/)
  }
  await backend.close()
})

Fs.run()

const S3 = suite<{ s3: FakeS3 }>('s3 backend')
S3.before.each(async (t) => {
  t.s3 = await startFakeS3()
})
S3.after.each(async (t) => {
  await t.s3.close()
})

S3('a key prefix keeps objects under it in the bucket', async ({ s3 }) => {
  const backend = new S3Backend('p', { ...s3.config, prefix: '/hub-one/' })
  await store(backend, 'blob/x', 'x')
  const raw = await backend.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }))
  assert.equal((raw.Contents ?? []).map((o) => o.Key), ['hub-one/blob/x'])
  assert.equal(await keys(backend, ''), ['blob/x'])
  await backend.close()
})

S3('large objects are published with a multipart copy', async ({ s3 }) => {
  const backend = new S3Backend('p', s3.config, { multipartCopyThreshold: 6 * MiB, copyPartSize: 5 * MiB })
  const data = randomBytes(13 * MiB)
  await store(backend, 'blob/big', data)
  const read = await backend.read('blob/big')
  const hash = createHash('sha256')
  for await (const chunk of read!.body) hash.update(chunk as Buffer)
  assert.is(hash.digest('hex'), createHash('sha256').update(data).digest('hex'))
  assert.equal(await leftovers(backend), { temp: [], uploads: [] })
  await backend.close()
})

S3('temporary objects and multipart uploads left by a crash are swept on first write', async ({ s3 }) => {
  const crashed = new S3Backend('p', s3.config)
  await crashed.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: '.tmp/leftover', Body: 'x' }))
  await crashed.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: '.tmp/upload' }))
  await crashed.close()
  const fresh = new S3Backend('p', s3.config)
  assert.equal(await leftovers(fresh), { temp: ['.tmp/leftover'], uploads: ['.tmp/upload'] })
  await fresh.close()
  const backend = new S3Backend('p', s3.config, { staleTempMs: -1, staleUploadMs: -1 })
  await store(backend, 'k', 'v')
  await backend.close() // waits for the sweep
  const after = new S3Backend('p', s3.config)
  assert.equal(await leftovers(after), { temp: [], uploads: [] })
  await after.close()
})

S3('static credentials come in pairs', async ({ s3 }) => {
  try {
    new S3Backend('p', { ...s3.config, secret_access_key: undefined })
    assert.unreachable()
  } catch (err) {
    assert.match((err as Error).message, /access_key_id and secret_access_key/)
  }
})

S3('an unreachable endpoint fails check() naming the backend', async () => {
  const backend = new S3Backend('gone', { type: 's3', bucket: 'b', endpoint_url: 'http://127.0.0.1:9', force_path_style: true, access_key_id: 'a', secret_access_key: 'b' })
  try {
    await backend.check()
    assert.unreachable('check should fail')
  } catch (err) {
    assert.match((err as Error).message, /s3 storage "gone" \(bucket "b" at http:\/\/127\.0\.0\.1:9\)/)
  }
  await backend.close()
})

S3.run()
