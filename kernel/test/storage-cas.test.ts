import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { RegistryRequest } from '@batlehub/sdk'
import { openTestDatabase, testDialects } from '../src/testing/db.ts'
import type { Database } from '../src/db/orm.ts'
import type { StorageBackend } from '../src/storage/backend.ts'
import { Cas } from '../src/storage/cas.ts'
import { FilesystemBackend } from '../src/storage/filesystem.ts'
import { S3Backend } from '../src/storage/s3.ts'
import { failingBody, leftovers, startFakeS3, type FakeS3 } from '../src/storage/testing.ts'

const MiB = 1024 * 1024
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const digest = (alg: string, data: string | Buffer, enc: 'hex' | 'base64' = 'hex') => createHash(alg).update(data).digest(enc)

async function bytes(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function text(body: Readable | undefined | null | unknown): Promise<string> {
  return (await bytes(body as Readable)).toString()
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<Error> {
  try {
    await promise
  } catch (err) {
    assert.is((err as { code?: string }).code, code, `expected ${code}, got ${(err as Error).message}`)
    if (message) assert.match((err as Error).message, message)
    return err as Error
  }
  assert.unreachable(`expected a rejection with ${code}`)
  throw new Error('unreachable')
}

function request(method: string, headers: Record<string, string> = {}): RegistryRequest {
  return { method, headers } as unknown as RegistryRequest
}

function table(db: Database, name: string): string {
  return db.dialect === 'postgresql' && db.schema ? `"${db.schema}"."${name}"` : `"${name}"`
}

async function blobObjects(backend: StorageBackend): Promise<string[]> {
  const out: string[] = []
  for await (const entry of backend.list('blob/')) out.push(entry.key)
  return out.sort()
}

async function refcount(cas: Cas, sha: string): Promise<number | null> {
  const rows = await cas.db.execute(`select refcount from ${table(cas.db, 'storage_blobs')} where backend = ? and sha256 = ?`, [cas.backend.name, sha])
  return rows[0] ? Number(rows[0].refcount) : null
}

async function count(cas: Cas, name: string): Promise<number> {
  const rows = await cas.db.execute(`select count(*) as n from ${table(cas.db, name)} where backend = ?`, [cas.backend.name])
  return Number(rows[0]!.n)
}

/** Rows and objects agree: every blob's refcount counts its keys, every referenced blob exists, no orphans. */
async function assertConsistent(cas: Cas): Promise<void> {
  const blobs = await cas.db.execute(`select sha256, refcount from ${table(cas.db, 'storage_blobs')} where backend = ?`, [cas.backend.name])
  const refs = await cas.db.execute(`select sha256, count(*) as n from ${table(cas.db, 'storage_refs')} where backend = ? group by sha256`, [cas.backend.name])
  const wanted = new Map(refs.map((r) => [String(r.sha256), Number(r.n)]))
  for (const blob of blobs) {
    const sha = String(blob.sha256)
    assert.is(Number(blob.refcount), wanted.get(sha) ?? 0, `refcount of ${sha.slice(0, 8)}`)
    assert.ok(Number(blob.refcount) > 0, `unreferenced blob row ${sha.slice(0, 8)}`)
    assert.ok(await cas.backend.exists(`blob/${sha}`), `blob object ${sha.slice(0, 8)} exists`)
  }
  for (const sha of wanted.keys()) assert.ok(blobs.some((b) => b.sha256 === sha), `blob row for ${sha.slice(0, 8)}`)
  const objects = await blobObjects(cas.backend)
  assert.equal(objects, blobs.map((b) => `blob/${b.sha256}`).sort(), 'blob objects match blob rows')
  assert.equal(await leftovers(cas.backend), { temp: [], uploads: [] })
}

/** A body that yields 1 KiB every few milliseconds, counting what was pulled. */
function slowBody(total: number, onChunk?: (n: number) => void): Readable & { pulled: number } {
  let n = 0
  const body = new Readable({
    read() {
      if (n * 1024 >= total) {
        this.push(null)
        return
      }
      setTimeout(() => {
        n++
        ;(body as any).pulled = n
        onChunk?.(n)
        this.push(Buffer.alloc(1024, 0x62))
      }, 2)
    },
  }) as Readable & { pulled: number }
  body.pulled = 0
  return body
}

interface Ctx {
  db: Database
  closeDb: () => Promise<void>
  dir: string
  s3?: FakeS3
  backend: StorageBackend
  cas: Cas
}

const backends: Record<string, (t: Ctx) => Promise<StorageBackend>> = {
  filesystem: async (t) => new FilesystemBackend('default', { path: join(t.dir, 'root') }),
  s3: async (t) => {
    t.s3 = await startFakeS3()
    return new S3Backend('default', t.s3.config)
  },
}

for (const dialect of testDialects()) {
  for (const [kind, makeBackend] of Object.entries(backends)) {
    const Cs = suite<Ctx>(`cas (${dialect}, ${kind})`)
    Cs.before.each(async (t) => {
      const opened = await openTestDatabase(dialect)
      t.db = opened.db
      t.closeDb = opened.close
      t.dir = await mkdtemp(join(tmpdir(), 'bh-cas-'))
      t.backend = await makeBackend(t)
      t.cas = new Cas({ backend: t.backend, db: t.db })
    })
    Cs.after.each(async (t) => {
      await t.backend.close()
      await t.s3?.close()
      t.s3 = undefined
      await t.closeDb()
      await rm(t.dir, { recursive: true, force: true })
    })

    Cs('put, head and get round-trip with digests', async ({ cas }) => {
      const put = await cas.put({ key: 'npm/left-pad/-/left-pad-1.0.0.tgz', body: Readable.from([Buffer.from('left'), Buffer.from('pad')]), contentType: 'application/octet-stream', digests: ['sha1'] })
      assert.is(put.key, 'npm/left-pad/-/left-pad-1.0.0.tgz')
      assert.is(put.size, 7)
      assert.is(put.sha256, sha256('leftpad'))
      assert.equal(put.digests, { sha256: sha256('leftpad'), sha1: digest('sha1', 'leftpad') })
      assert.is(put.deduplicated, false)
      assert.ok(!Number.isNaN(Date.parse(put.createdAt)))
      const head = await cas.head(put.key)
      assert.equal(head, { key: put.key, size: 7, sha256: put.sha256, contentType: 'application/octet-stream', createdAt: put.createdAt })
      const got = await cas.get(put.key)
      assert.equal(got!.object, head)
      assert.is(await text(got!.body), 'leftpad')
      assert.is(await cas.head('absent'), null)
      assert.is(await cas.get('absent'), null)
      await assertConsistent(cas)
    })

    Cs('bodies may be a Buffer, a string or an async iterable', async ({ cas }) => {
      await cas.put({ key: 'a', body: Buffer.from('buffer') })
      await cas.put({ key: 'b', body: 'string' })
      await cas.put({ key: 'c', body: (async function* () { yield Buffer.from('iter'); yield new Uint8Array([0x61]) })() })
      await cas.put({ key: 'empty', body: '' })
      assert.is(await text((await cas.get('a'))!.body), 'buffer')
      assert.is(await text((await cas.get('b'))!.body), 'string')
      assert.is(await text((await cas.get('c'))!.body), 'itera')
      assert.is((await cas.head('empty'))!.size, 0)
      assert.is(await text((await cas.get('empty'))!.body), '')
      await assertConsistent(cas)
    })

    Cs('a body that fails halfway stores nothing', async ({ cas }) => {
      const err = await cas.put({ key: 'broken', body: failingBody(10 * MiB) }).then(() => null, (e) => e as Error)
      assert.is(err?.message, 'connection reset by peer')
      assert.is(await cas.head('broken'), null)
      assert.is(await count(cas, 'storage_refs'), 0)
      assert.is(await count(cas, 'storage_blobs'), 0)
      assert.equal(await blobObjects(cas.backend), [])
      assert.equal(await leftovers(cas.backend), { temp: [], uploads: [] })
    })

    Cs('an aborted signal stores nothing', async ({ cas }) => {
      const controller = new AbortController()
      const body = slowBody(10 * MiB, (n) => { if (n === 5) controller.abort() })
      const err = await cas.put({ key: 'aborted', body, signal: controller.signal }).then(() => null, (e) => e as Error)
      assert.is(err?.name, 'AbortError')
      assert.ok(body.pulled < 50, `stopped reading (${body.pulled} chunks)`)
      assert.ok(body.destroyed)
      const early = new AbortController()
      early.abort()
      const untouched = slowBody(1024)
      const err2 = await cas.put({ key: 'aborted', body: untouched, signal: early.signal }).then(() => null, (e) => e as Error)
      assert.is(err2?.name, 'AbortError')
      assert.is(untouched.pulled, 0)
      assert.is(await cas.head('aborted'), null)
      assert.is(await count(cas, 'storage_blobs'), 0)
      assert.equal(await blobObjects(cas.backend), [])
      assert.equal(await leftovers(cas.backend), { temp: [], uploads: [] })
    })

    Cs('maxBytes refuses a body as soon as it is exceeded', async ({ cas }) => {
      let pulled = 0
      async function* endless() {
        for (;;) {
          pulled += 64 * 1024
          yield Buffer.alloc(64 * 1024)
        }
      }
      await rejects(cas.put({ key: 'big', body: endless(), maxBytes: 10 * MiB }), 'BH_TOO_LARGE')
      assert.ok(pulled < 12 * MiB, `read ${pulled} bytes`)
      await rejects(cas.put({ key: 'big', body: 'x'.repeat(101), maxBytes: 100 }), 'BH_TOO_LARGE')
      assert.is((await cas.put({ key: 'fits', body: 'x'.repeat(100), maxBytes: 100 })).size, 100)
      assert.is(await cas.head('big'), null)
      assert.is(await count(cas, 'storage_blobs'), 1)
      await assertConsistent(cas)
    })

    Cs('expected digests are verified in hex, SRI and base64 forms', async ({ cas }) => {
      const data = 'some package bytes'
      const put = await cas.put({
        key: 'ok', body: data,
        expect: {
          sha256: digest('sha256', data).toUpperCase(),
          sha1: digest('sha1', data),
          sha512: `sha512-${digest('sha512', data, 'base64')} sha1-${digest('sha1', data, 'base64')}`,
          md5: digest('md5', data, 'base64'),
        },
      })
      assert.equal(put.digests, {
        sha256: digest('sha256', data), sha1: digest('sha1', data), sha512: digest('sha512', data), md5: digest('md5', data),
      })
      const err = await rejects(cas.put({ key: 'bad', body: data, expect: { sha256: digest('sha256', data), sha1: digest('sha1', 'other') } }), 'BH_INTEGRITY', /sha1 mismatch/)
      assert.is((err as { status?: number }).status, 400)
      await rejects(cas.put({ key: 'bad', body: data, expect: { sha512: `sha512-${digest('sha512', 'other', 'base64')}` } }), 'BH_INTEGRITY', /sha512/)
      await rejects(cas.put({ key: 'bad', body: data, expect: { sha256: 'not-a-digest' } }), 'BH_INPUT')
      await rejects(cas.put({ key: 'bad', body: data, expect: { sha256: `sha512-${digest('sha512', data, 'base64')}` } }), 'BH_INPUT')
      await rejects(cas.put({ key: 'bad', body: data, expect: { crc32: 'abcd' } as never }), 'BH_INPUT')
      assert.is(await cas.head('bad'), null)
      assert.equal(await blobObjects(cas.backend), [`blob/${digest('sha256', data)}`])
      await assertConsistent(cas)
    })

    Cs('identical bytes are stored once and reference-counted', async ({ cas, backend }) => {
      const a = await cas.put({ key: 'registries/one/a.tgz', body: 'same bytes' })
      const b = await cas.put({ key: 'registries/two/b.tgz', body: 'same bytes' })
      assert.is(a.deduplicated, false)
      assert.is(b.deduplicated, true)
      assert.is(a.sha256, b.sha256)
      assert.equal(await blobObjects(backend), [`blob/${a.sha256}`])
      assert.is(await refcount(cas, a.sha256), 2)
      assert.is(await cas.delete('registries/one/a.tgz'), true)
      assert.is(await cas.delete('registries/one/a.tgz'), false)
      assert.is(await refcount(cas, a.sha256), 1)
      assert.is(await text((await cas.get('registries/two/b.tgz'))!.body), 'same bytes')
      await assertConsistent(cas)
      assert.is(await cas.delete('registries/two/b.tgz'), true)
      assert.equal(await blobObjects(backend), [])
      assert.is(await refcount(cas, a.sha256), null)
      await assertConsistent(cas)
    })

    Cs('overwriting a key drops the old blob; rewriting the same bytes changes nothing', async ({ cas, backend }) => {
      const v1 = await cas.put({ key: 'k', body: 'version one' })
      const v2 = await cas.put({ key: 'k', body: 'version two', contentType: 'text/plain' })
      assert.equal(await blobObjects(backend), [`blob/${v2.sha256}`])
      assert.is(await refcount(cas, v1.sha256), null)
      assert.is(await text((await cas.get('k'))!.body), 'version two')
      assert.is((await cas.head('k'))!.contentType, 'text/plain')
      const again = await cas.put({ key: 'k', body: 'version two' })
      assert.is(again.deduplicated, true)
      assert.is(await refcount(cas, v2.sha256), 1)
      assert.is((await cas.head('k'))!.contentType, undefined)
      // A key moving onto a blob shared with another key.
      await cas.put({ key: 'other', body: 'version one' })
      await cas.put({ key: 'k', body: 'version one' })
      assert.is(await refcount(cas, v1.sha256), 2)
      assert.equal(await blobObjects(backend), [`blob/${v1.sha256}`])
      await assertConsistent(cas)
    })

    Cs('ten parallel puts of identical bytes make one blob with refcount 10', async ({ cas, backend }) => {
      const data = 'x'.repeat(50_000)
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => cas.put({ key: `par/${i}`, body: Readable.from([Buffer.from(data)]) })))
      assert.ok(results.every((r) => r.sha256 === sha256(data)))
      assert.equal(await blobObjects(backend), [`blob/${sha256(data)}`])
      assert.is(await refcount(cas, sha256(data)), 10)
      assert.is(await count(cas, 'storage_blobs'), 1)
      await assertConsistent(cas)
    })

    Cs('parallel puts of one key: the last one wins and refcounts stay right', async ({ cas, backend }) => {
      const bodies = Array.from({ length: 8 }, (_, i) => `body number ${i}`)
      await Promise.all(bodies.map((body) => cas.put({ key: 'same', body })))
      const final = await text((await cas.get('same'))!.body)
      assert.ok(bodies.includes(final))
      assert.equal(await blobObjects(backend), [`blob/${sha256(final)}`])
      assert.is(await refcount(cas, sha256(final)), 1)
      assert.is(await count(cas, 'storage_refs'), 1)
      await assertConsistent(cas)
    })

    Cs('random parallel puts and deletes keep rows and objects consistent', async ({ cas }) => {
      let seed = 7
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
      const ops = Array.from({ length: 40 }, () => {
        const key = `mix/${rand(5)}`
        return rand(3) === 0 ? () => cas.delete(key) : () => cas.put({ key, body: `content ${rand(3)}` })
      })
      await Promise.all(ops.map((op) => op()))
      await assertConsistent(cas)
      for await (const object of cas.list('mix/')) await cas.delete(object.key)
      await assertConsistent(cas)
      assert.equal(await blobObjects(cas.backend), [])
    })

    Cs('keys cannot escape: traversal, absolute, empty segments, backslash, NUL, overlong', async ({ cas, dir }) => {
      const bad = ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', 'a/./b', 'a\0b', `a/${'x'.repeat(1100)}`, '', 'a/', 'ä']
      for (const key of bad) {
        await rejects(cas.put({ key, body: 'evil' }), 'BH_INPUT')
        await rejects(cas.get(key), 'BH_INPUT')
        await rejects(cas.head(key), 'BH_INPUT')
        await rejects(cas.delete(key), 'BH_INPUT')
        await rejects(cas.serve({ key, request: request('GET') }), 'BH_INPUT')
      }
      assert.is(await count(cas, 'storage_refs'), 0)
      assert.equal(await blobObjects(cas.backend), [])
      if (kind === 'filesystem') assert.equal(await readdir(dir), ['root']) // nothing beside the root
      await rejects(cas.put({ key: 'ok', body: 'x', contentType: 'text/html\r\nset-cookie: a=b' }), 'BH_INPUT')
    })

    Cs('list returns keys under a prefix in byte order, across pages', async ({ cas, db }) => {
      for (const key of ['b/2', 'a/2', 'a/10', 'a/1', 'A/x', 'a_/x', 'a']) await cas.put({ key, body: key })
      const keys = async (prefix: string) => {
        const out: string[] = []
        for await (const o of cas.list(prefix)) out.push(o.key)
        return out
      }
      assert.equal(await keys('a/'), ['a/1', 'a/10', 'a/2'])
      assert.equal(await keys(''), ['A/x', 'a', 'a/1', 'a/10', 'a/2', 'a_/x', 'b/2'])
      assert.equal(await keys('a'), ['a', 'a/1', 'a/10', 'a/2', 'a_/x'])
      assert.equal(await keys('c'), [])
      const first = (await (cas.list('a/1')[Symbol.asyncIterator]().next())).value
      assert.equal(Object.keys(first).sort(), ['createdAt', 'key', 'sha256', 'size'])
      // Pagination: 1,234 rows written directly.
      const now = db.dialect === 'sqlite' ? Date.now() : new Date()
      for (let start = 0; start < 1234; start += 200) {
        const n = Math.min(200, 1234 - start)
        const values = Array.from({ length: n }, () => '(?, ?, ?, ?, ?)').join(', ')
        const params = Array.from({ length: n }, (_, i) => ['default', `page/${String(start + i).padStart(5, '0')}`, 'f'.repeat(64), 1, now]).flat()
        await db.execute(`insert into ${table(db, 'storage_refs')} (backend, "key", sha256, size, created_at) values ${values}`, params)
      }
      const paged = await keys('page/')
      assert.is(paged.length, 1234)
      assert.is(paged[0], 'page/00000')
      assert.is(paged[1233], 'page/01233')
      assert.ok(paged.every((k, i) => i === 0 || paged[i - 1]! < k))
      await rejects((async () => { for await (const _ of cas.list('../')) break })(), 'BH_INPUT')
    })

    Cs('ranged get', async ({ cas }) => {
      await cas.put({ key: 'r', body: '0123456789' })
      const part = await cas.get('r', { range: { start: 2, end: 4 } })
      assert.is(part!.object.size, 10)
      assert.is(await text(part!.body), '234')
      assert.is(await text((await cas.get('r', { range: { start: 8 } }))!.body), '89')
      assert.is(await text((await cas.get('r', { range: { start: 5, end: 100 } }))!.body), '56789')
      assert.is(await text((await cas.get('r', { range: { start: 20 } }))!.body), '')
      await rejects(cas.get('r', { range: { start: 5, end: 2 } }), 'BH_INPUT')
      await rejects(cas.get('r', { range: { start: -1 } }), 'BH_INPUT')
    })

    Cs('serve: 200, 304, 206, 416, HEAD, absent', async ({ cas }) => {
      const put = await cas.put({ key: 'files/ten', body: '0123456789', contentType: 'application/x-tar' })
      const etag = `"${put.sha256}"`
      const full = (await cas.serve({ key: 'files/ten', request: request('GET') }))!
      assert.is(full.status, 200)
      assert.is(full.headers!['etag'], etag)
      assert.is(full.headers!['content-length'], '10')
      assert.is(full.headers!['accept-ranges'], 'bytes')
      assert.is(full.headers!['content-type'], 'application/x-tar')
      assert.ok(full.headers!['last-modified'])
      assert.ok(full.body instanceof Readable)
      assert.is(await text(full.body), '0123456789')

      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
        const nm = (await cas.serve({ key: 'files/ten', request: request('GET', { 'if-none-match': inm }) }))!
        assert.is(nm.status, 304, inm)
        assert.is(nm.headers!['etag'], etag)
        assert.is(nm.body, null)
      }
      const other = (await cas.serve({ key: 'files/ten', request: request('GET', { 'if-none-match': '"other"' }) }))!
      assert.is(other.status, 200)
      assert.is(await text(other.body), '0123456789')
      const lm = String(full.headers!['last-modified'])
      assert.is((await cas.serve({ key: 'files/ten', request: request('GET', { 'if-modified-since': lm }) }))!.status, 304)

      const ranges: Array<[string, string, string]> = [['bytes=0-4', 'bytes 0-4/10', '01234'], ['bytes=5-', 'bytes 5-9/10', '56789'], ['bytes=-3', 'bytes 7-9/10', '789'], ['bytes=8-100', 'bytes 8-9/10', '89'], ['bytes=-20', 'bytes 0-9/10', '0123456789']]
      for (const [range, contentRange, body] of ranges) {
        const r = (await cas.serve({ key: 'files/ten', request: request('GET', { range }) }))!
        assert.is(r.status, 206, range)
        assert.is(r.headers!['content-range'], contentRange)
        assert.is(r.headers!['content-length'], String(body.length))
        assert.is(await text(r.body), body)
      }
      for (const range of ['bytes=999-', 'bytes=10-', 'bytes=-0']) {
        const r = (await cas.serve({ key: 'files/ten', request: request('GET', { range }) }))!
        assert.is(r.status, 416, range)
        assert.is(r.headers!['content-range'], 'bytes */10')
        assert.is(r.body, null)
      }
      for (const range of ['bytes=0-1,4-5', 'bytes=5-2', 'items=0-1', 'bytes=abc']) {
        const r = (await cas.serve({ key: 'files/ten', request: request('GET', { range }) }))!
        assert.is(r.status, 200, range)
        assert.is(await text(r.body), '0123456789')
      }
      const stale = (await cas.serve({ key: 'files/ten', request: request('GET', { range: 'bytes=0-1', 'if-range': '"old"' }) }))!
      assert.is(stale.status, 200)
      await text(stale.body)
      const fresh = (await cas.serve({ key: 'files/ten', request: request('GET', { range: 'bytes=0-1', 'if-range': etag }) }))!
      assert.is(fresh.status, 206)
      await text(fresh.body)

      const head = (await cas.serve({ key: 'files/ten', request: request('HEAD') }))!
      assert.is(head.status, 200)
      assert.is(head.headers!['content-length'], '10')
      assert.is(head.body, null)
      const headRange = (await cas.serve({ key: 'files/ten', request: request('HEAD', { range: 'bytes=0-4' }) }))!
      assert.is(headRange.status, 206)
      assert.is(headRange.headers!['content-length'], '5')
      assert.is(headRange.body, null)

      const typed = (await cas.serve({ key: 'files/ten', request: request('HEAD'), contentType: 'application/gzip', headers: { 'Cache-Control': 'public, max-age=31536000, immutable', ETag: '"forged"' } }))!
      assert.is(typed.headers!['content-type'], 'application/gzip')
      assert.is(typed.headers!['cache-control'], 'public, max-age=31536000, immutable')
      assert.is(typed.headers!['etag'], etag)
      await cas.put({ key: 'untyped', body: 'x' })
      assert.is((await cas.serve({ key: 'untyped', request: request('HEAD') }))!.headers!['content-type'], 'application/octet-stream')
      assert.is(await cas.serve({ key: 'files/absent', request: request('GET') }), null)
      await cas.put({ key: 'empty', body: '' })
      const empty = (await cas.serve({ key: 'empty', request: request('GET', { range: 'bytes=0-' }) }))!
      assert.is(empty.status, 416)
      const emptyFull = (await cas.serve({ key: 'empty', request: request('GET') }))!
      assert.is(emptyFull.status, 200)
      assert.is(await text(emptyFull.body), '')
    })

    Cs('a streamed 20 MiB put and get round-trip with matching sha256', async ({ cas }) => {
      async function* generate() {
        let seed = Buffer.from(kind)
        for (let sent = 0; sent < 20 * MiB; sent += 64 * 1024) {
          seed = createHash('sha512').update(seed).digest()
          const chunk = Buffer.alloc(64 * 1024)
          for (let i = 0; i < chunk.length; i += seed.length) seed.copy(chunk, i)
          yield chunk
        }
      }
      const expected = createHash('sha256')
      for await (const chunk of generate()) expected.update(chunk)
      const hex = expected.digest('hex')
      const put = await cas.put({ key: 'big/artifact.bin', body: Readable.from(generate()), expect: { sha256: hex }, maxBytes: 21 * MiB })
      assert.is(put.size, 20 * MiB)
      assert.is(put.sha256, hex)
      const got = await cas.get('big/artifact.bin')
      const hash = createHash('sha256')
      for await (const chunk of got!.body) hash.update(chunk as Buffer)
      assert.is(hash.digest('hex'), hex)
      const tail = await cas.get('big/artifact.bin', { range: { start: 20 * MiB - 10 } })
      assert.is((await bytes(tail!.body)).length, 10)
      await assertConsistent(cas)
    })

    Cs('scoped storage prefixes keys per registry and returns the plugin keys', async ({ cas }) => {
      const npm = cas.scoped('npm')
      const other = cas.scoped('npm-internal')
      const put = await npm.put({ key: 'lodash/-/lodash-4.17.21.tgz', body: 'tarball', contentType: 'application/octet-stream' })
      assert.is(put.key, 'lodash/-/lodash-4.17.21.tgz')
      // sha256 always; other digests only when asked for.
      assert.equal(Object.keys(put.digests).sort(), ['sha256'])
      const more = await npm.put({ key: 'lodash/-/lodash-4.17.20.tgz', body: 'tarball', digests: ['sha1', 'sha512'] })
      assert.equal(Object.keys(more.digests).sort(), ['sha1', 'sha256', 'sha512'])
      assert.is(more.digests.sha1, createHash('sha1').update('tarball').digest('hex'))
      assert.ok(await npm.delete('lodash/-/lodash-4.17.20.tgz'))
      assert.ok(await cas.head('registries/npm/lodash/-/lodash-4.17.21.tgz'))
      assert.is(await other.head('lodash/-/lodash-4.17.21.tgz'), null)
      await other.put({ key: 'lodash/-/lodash-4.17.21.tgz', body: 'tarball' })
      assert.is(await refcount(cas, put.sha256), 2)
      assert.is((await npm.head('lodash/-/lodash-4.17.21.tgz'))!.key, 'lodash/-/lodash-4.17.21.tgz')
      const got = await npm.get('lodash/-/lodash-4.17.21.tgz', { range: { start: 0, end: 2 } })
      assert.is(got!.object.key, 'lodash/-/lodash-4.17.21.tgz')
      assert.is(await text(got!.body), 'tar')
      const listed: string[] = []
      for await (const o of npm.list('lodash/')) listed.push(o.key)
      assert.equal(listed, ['lodash/-/lodash-4.17.21.tgz'])
      const served = await npm.serve({ key: 'lodash/-/lodash-4.17.21.tgz', request: request('HEAD') })
      assert.is(served!.status, 200)
      await rejects(npm.put({ key: '../other/x', body: 'x' }), 'BH_INPUT')
      await rejects(npm.get('../npm-internal/lodash/-/lodash-4.17.21.tgz'), 'BH_INPUT')
      assert.is(await npm.delete('lodash/-/lodash-4.17.21.tgz'), true)
      assert.is(await refcount(cas, put.sha256), 1)
      try {
        cas.scoped('../x')
        assert.unreachable()
      } catch (err) {
        assert.is((err as { code?: string }).code, 'BH_INPUT')
      }
      await assertConsistent(cas)
    })

    Cs('the key cache follows writes here and recovers from writes by another replica', async ({ cas, backend, db }) => {
      await cas.put({ key: 'doc', body: 'one' })
      assert.is(await text((await cas.get('doc'))!.body), 'one')
      await cas.put({ key: 'doc', body: 'two' })
      assert.is(await text((await cas.get('doc'))!.body), 'two')
      const replica = new Cas({ backend, db })
      await replica.put({ key: 'doc', body: 'three' }) // removes blob "two", which `cas` has cached
      assert.is(await text((await cas.get('doc'))!.body), 'three')
      const served = await cas.serve({ key: 'doc', request: request('GET') })
      assert.is(await text(served!.body), 'three')
      await replica.delete('doc')
      assert.is(await cas.get('doc'), null)
      const uncached = new Cas({ backend, db, cacheSize: 0 })
      await uncached.put({ key: 'doc', body: 'four' })
      assert.is(await text((await uncached.get('doc'))!.body), 'four')
    })

    Cs('a blob removed between the dedup check and the transaction is published again', async ({ cas, backend, db }) => {
      // The dedup check sees the object, then it vanishes (a concurrent collection) before the
      // transaction: the put must notice while holding the row lock.
      let lie = true
      const racy: StorageBackend = Object.create(backend, {
        exists: { value: async (key: string) => (lie ? ((lie = false), true) : backend.exists(key)) },
      })
      const racing = new Cas({ backend: racy, db })
      const put = await racing.put({ key: 'raced', body: 'raced bytes' })
      assert.is(put.deduplicated, false) // written after all
      assert.ok(await backend.exists(`blob/${sha256('raced bytes')}`))
      assert.is(await text((await cas.get('raced'))!.body), 'raced bytes')
      await assertConsistent(cas)
    })

    Cs('sweep removes blobs left unreferenced by a crash', async ({ cas, db, backend }) => {
      const put = await cas.put({ key: 'k', body: 'orphaned' })
      await db.execute(`delete from ${table(db, 'storage_refs')} where backend = ?`, ['default'])
      await db.execute(`update ${table(db, 'storage_blobs')} set refcount = 0 where backend = ?`, ['default'])
      assert.is(await cas.sweep(), 1)
      assert.is(await refcount(cas, put.sha256), null)
      assert.equal(await blobObjects(backend), [])
      await assertConsistent(cas)
    })

    Cs.run()
  }
}
