import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import type { FakeUpstream } from '@batlehub/sdk/testing'
import { startFakeS3 } from '../src/storage/testing.ts'
import { HOLD_BACK } from '../src/cache/fetch.ts'
import { cacheTestPlugin, newState, table, type CacheTestState } from './cache-plugin.ts'

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))
const sha = (alg: string, data: Buffer, enc: 'hex' | 'base64' = 'hex') => createHash(alg).update(data).digest(enc)

interface Ctx {
  hub: KernelTestHandle
  upstream: FakeUpstream
  state: CacheTestState
}

interface SlowOptions {
  chunk?: number
  delayMs?: number
  /** Send Content-Length (default true). */
  length?: boolean
  /** Destroy the connection after this many bytes. */
  dieAfter?: number
}

/** An upstream handler that streams `data` slowly; `closedEarly` tells whether its client hung up. */
function slow(data: Buffer, o: SlowOptions = {}) {
  const stats = { started: 0, closedEarly: 0, finished: 0 }
  const handler = async (_req: IncomingMessage, res: ServerResponse) => {
    stats.started++
    res.on('close', () => {
      if (res.writableFinished) stats.finished++
      else stats.closedEarly++
    })
    res.writeHead(200, { 'content-type': 'application/x-tar', ...(o.length === false ? {} : { 'content-length': String(data.length) }) })
    const chunk = o.chunk ?? 16 * 1024
    for (let off = 0; off < data.length; off += chunk) {
      if (res.destroyed) return
      if (o.dieAfter !== undefined && off >= o.dieAfter) {
        res.socket?.destroy()
        return
      }
      res.write(data.subarray(off, off + chunk))
      await delay(o.delayMs ?? 10)
    }
    res.end()
  }
  return { handler, stats }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(20)
  }
}

/** Nothing of a key is left: no storage ref, no cached_artifacts row, no spool file. */
async function assertNothingStored(hub: KernelTestHandle, key: string): Promise<void> {
  const db = hub.kernel.db
  const refs = await db.execute(`select "key" from ${table(db, 'storage_refs')} where "key" = ?`, [`registries/ct/${key}`])
  assert.equal(refs, [], 'no storage ref')
  const rows = await db.execute(`select storage_key from ${table(db, 'cached_artifacts')} where storage_key = ?`, [key])
  assert.equal(rows, [], 'no cached_artifacts row')
  await waitFor(() => readdirSync(join(hub.dataDir, 'spool')).length === 0)
  const blobs = await db.execute(`select sha256 from ${table(db, 'storage_blobs')} where refcount > 0`)
  assert.equal(blobs, [], 'no referenced blob')
}

/** Downloads with node:http; resolves with what arrived and whether the response completed. */
function download(url: string, o: { abortAfterBytes?: number } = {}): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let got = 0
    let status = 0
    const req = httpRequest(url, (res) => {
      status = res.statusCode ?? 0
      res.on('data', (c: Buffer) => {
        chunks.push(c)
        got += c.length
        if (o.abortAfterBytes !== undefined && got >= o.abortAfterBytes) req.destroy()
      })
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks), complete: res.complete }))
      res.on('error', () => resolve({ status, body: Buffer.concat(chunks), complete: false }))
      res.on('aborted', () => resolve({ status, body: Buffer.concat(chunks), complete: false }))
    })
    req.on('error', () => resolve({ status, body: Buffer.concat(chunks), complete: false }))
    req.end()
  })
}

for (const dialect of testDialects()) {
  const Art = suite<Ctx>(`cache artifacts (${dialect})`)
  Art.before.each(async (t) => {
    t.state = newState()
    t.upstream = await fakeUpstream()
    t.hub = await createTestKernel({
      database: dialect,
      discover: false,
      plugins: [cacheTestPlugin(t.state)],
      config: { auth: [], registries: [{ name: 'ct', type: 'cachetest', mode: 'proxy', upstreams: [t.upstream.url] }] },
    })
  })
  Art.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
  })

  Art('a miss streams from the upstream once, forwards Content-Length, verifies digests, then hits', async ({ hub, upstream, state }) => {
    const data = randomBytes(100_000)
    state.expect.set('a-1.0.0.tgz', { sha512: `sha512-${sha('sha512', data, 'base64')}`, sha1: sha('sha1', data) })
    upstream.route('GET /files/a-1.0.0.tgz', { headers: { 'content-type': 'application/x-tar' }, body: data })
    const miss = await hub.request('GET', '/proxy/ct/files/a/1.0.0/a-1.0.0.tgz')
    assert.is(miss.status, 200)
    assert.is(miss.headers['x-cache'], 'MISS')
    assert.is(miss.headers['content-length'], '100000')
    assert.is(miss.headers['content-type'], 'application/octet-stream')
    assert.ok(miss.body.equals(data))
    assert.is(upstream.requests[0]!.headers['accept-encoding'], 'identity')
    const hit = await hub.request('GET', '/proxy/ct/files/a/1.0.0/a-1.0.0.tgz')
    assert.is(hit.headers['x-cache'], 'HIT')
    assert.is(hit.headers.etag, `"${sha('sha256', data)}"`)
    assert.ok(hit.body.equals(data))
    assert.is(upstream.paths.length, 1)
    const rows = await hub.kernel.db.execute(`select package_name, package_version, sha256, size from ${table(hub.kernel.db, 'cached_artifacts')}`)
    assert.equal(rows.map((r) => ({ ...r, size: Number(r.size) })), [{ package_name: 'a', package_version: '1.0.0', sha256: sha('sha256', data), size: 100000 }])
    assert.equal((await hub.request('GET', '/proxy/ct/has/a/a-1.0.0.tgz')).json(), { cached: true })
    assert.equal(readdirSync(join(hub.dataDir, 'spool')), [])
    const metrics = (await hub.request('GET', '/metrics')).text()
    assert.match(metrics, /batlehub_cache_hits_total\{registry="ct",kind="artifact"\} 1/)
    assert.match(metrics, /batlehub_cache_misses_total\{registry="ct",kind="artifact"\} 1/)
    assert.match(metrics, /batlehub_cache_served_bytes_total\{registry="ct",source="upstream"\} 100000/)
    assert.match(metrics, /batlehub_cache_served_bytes_total\{registry="ct",source="cache"\} 100000/)
  })

  Art('a cached artifact answers Range, If-None-Match and HEAD', async ({ hub, upstream }) => {
    const data = Buffer.from('0123456789abcdefghij')
    upstream.route('GET /files/r-1.tgz', { body: data })
    await hub.request('GET', '/proxy/ct/files/r/1/r-1.tgz')
    const range = await hub.request('GET', '/proxy/ct/files/r/1/r-1.tgz', { headers: { range: 'bytes=5-9' } })
    assert.is(range.status, 206)
    assert.is(range.text(), '56789')
    assert.is(range.headers['content-range'], 'bytes 5-9/20')
    const etag = range.headers.etag!
    const notModified = await hub.request('GET', '/proxy/ct/files/r/1/r-1.tgz', { headers: { 'if-none-match': etag } })
    assert.is(notModified.status, 304)
    const head = await hub.request('HEAD', '/proxy/ct/files/r/1/r-1.tgz')
    assert.is(head.status, 200)
    assert.is(head.headers['content-length'], '20')
    assert.is(upstream.paths.length, 1)
  })

  Art('HEAD on a miss asks the upstream for the head only and stores nothing', async ({ hub, upstream }) => {
    upstream.route('HEAD /files/h-1.tgz', { headers: { 'content-length': '1234' } })
    const head = await hub.request('HEAD', '/proxy/ct/files/h/1/h-1.tgz')
    assert.is(head.status, 200)
    assert.is(head.headers['content-length'], '1234')
    assert.is(head.headers['x-cache'], 'MISS')
    assert.equal(upstream.requests.map((r) => r.method), ['HEAD'])
    await assertNothingStored(hub, 'files/h/h-1.tgz')
  })

  Art('20 concurrent cold requests make one upstream request and get identical complete bodies', async ({ hub, upstream }) => {
    const data = randomBytes(1024 * 1024)
    const s = slow(data, { chunk: 32 * 1024, delayMs: 15 })
    upstream.route('GET /files/sf-1.tgz', s.handler)
    const url = `${hub.url}/proxy/ct/files/sf/1/sf-1.tgz`
    const early = Array.from({ length: 10 }, () => download(url))
    await delay(150) // the rest join while the body is streaming
    const late = Array.from({ length: 10 }, () => download(url))
    const all = await Promise.all([...early, ...late])
    for (const r of all) {
      assert.is(r.status, 200)
      assert.ok(r.complete)
      assert.is(r.body.length, data.length)
      assert.ok(r.body.equals(data))
    }
    assert.is(s.stats.started, 1)
    assert.is(upstream.paths.length, 1)
  })

  Art('a digest mismatch fails every client and stores nothing; the next request refetches', async ({ hub, upstream, state }) => {
    const data = randomBytes(256 * 1024)
    state.expect.set('d-1.tgz', { sha256: sha('sha256', Buffer.from('something else')) })
    const s = slow(data, { chunk: 32 * 1024, delayMs: 40 })
    upstream.route('GET /files/d-1.tgz', s.handler)
    const url = `${hub.url}/proxy/ct/files/d/1/d-1.tgz`
    const results = await Promise.all(Array.from({ length: 5 }, () => download(url)))
    for (const r of results) {
      assert.is(r.status, 200)
      assert.not.ok(r.complete)
      assert.ok(r.body.length < data.length)
    }
    await assertNothingStored(hub, 'files/d/d-1.tgz')
    assert.is(s.stats.started, 1)
    assert.match((await hub.request('GET', '/metrics')).text(), /batlehub_cache_digest_mismatches_total\{registry="ct"\} 1\n/)
    state.expect.set('d-1.tgz', { sha256: sha('sha256', data) })
    const ok = await download(url)
    assert.ok(ok.complete)
    assert.ok(ok.body.equals(data))
    assert.is(s.stats.started, 2)
  })

  Art('a small artifact with a wrong digest is verified before any header: a 502 in the plugin\'s format', async ({ hub, upstream, state }) => {
    const data = randomBytes(HOLD_BACK)
    state.expect.set('w-1.tgz', { sha256: sha('sha256', Buffer.from('something else')) })
    upstream.route('GET /files/w-1.tgz', { body: data })
    const url = `${hub.url}/proxy/ct/files/w/1/w-1.tgz`
    const res = await hub.request('GET', '/proxy/ct/files/w/1/w-1.tgz')
    assert.is(res.status, 502)
    assert.is(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(res.text(), /^cachetest error 502 BH_UPSTREAM:/)
    assert.is(res.headers['x-cache'], undefined)
    await assertNothingStored(hub, 'files/w/w-1.tgz')
    assert.match((await hub.request('GET', '/metrics')).text(), /batlehub_cache_digest_mismatches_total\{registry="ct"\} 1\n/)
    // The same holds for an upstream that stops within the held-back tail.
    const s = slow(randomBytes(4 * HOLD_BACK), { chunk: HOLD_BACK / 2, delayMs: 5, dieAfter: HOLD_BACK / 2 })
    upstream.route('GET /files/z-1.tgz', s.handler)
    const died = await download(`${hub.url}/proxy/ct/files/z/1/z-1.tgz`)
    assert.is(died.status, 502)
    assert.ok(died.complete)
    assert.match(died.body.toString(), /^cachetest error 502/)
    await assertNothingStored(hub, 'files/z/z-1.tgz')
    // One byte past the tail and the response streams as before: a later mismatch cuts it.
    const big = randomBytes(2 * (HOLD_BACK + 1))
    state.expect.set('w-2.tgz', { sha256: sha('sha256', Buffer.from('something else')) })
    upstream.route('GET /files/w-2.tgz', slow(big, { chunk: HOLD_BACK + 1, delayMs: 300 }).handler)
    const cut = await download(`${hub.url}/proxy/ct/files/w/2/w-2.tgz`)
    assert.is(cut.status, 200)
    assert.not.ok(cut.complete)
    await assertNothingStored(hub, 'files/w/w-2.tgz')
    // With the right digest the small artifact is served and stored.
    state.expect.set('w-1.tgz', { sha256: sha('sha256', data) })
    const ok = await download(url)
    assert.is(ok.status, 200)
    assert.ok(ok.complete && ok.body.equals(data))
  })

  Art('an upstream that dies mid-body leaves nothing behind', async ({ hub, upstream }) => {
    const data = randomBytes(200 * 1024)
    const s = slow(data, { chunk: 16 * 1024, delayMs: 5, dieAfter: 100 * 1024 })
    upstream.route('GET /files/x-1.tgz', s.handler)
    const r = await download(`${hub.url}/proxy/ct/files/x/1/x-1.tgz`)
    assert.not.ok(r.complete)
    await assertNothingStored(hub, 'files/x/x-1.tgz')
    // Without Content-Length the truncation is noticed too (chunked framing never finishes).
    const t = slow(data, { chunk: 16 * 1024, delayMs: 5, dieAfter: 100 * 1024, length: false })
    upstream.route('GET /files/y-1.tgz', t.handler)
    const r2 = await download(`${hub.url}/proxy/ct/files/y/1/y-1.tgz`)
    assert.not.ok(r2.complete)
    await assertNothingStored(hub, 'files/y/y-1.tgz')
  })

  Art('when every client hangs up, the upstream fetch is aborted and nothing is stored', async ({ hub, upstream }) => {
    const data = randomBytes(4 * 1024 * 1024)
    const s = slow(data, { chunk: 16 * 1024, delayMs: 20 })
    upstream.route('GET /files/ab-1.tgz', s.handler)
    const url = `${hub.url}/proxy/ct/files/ab/1/ab-1.tgz`
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => download(url, { abortAfterBytes: 1 + i * 20_000 })))
    for (const r of results) assert.not.ok(r.complete)
    await waitFor(() => s.stats.closedEarly === 1)
    assert.is(s.stats.finished, 0)
    await assertNothingStored(hub, 'files/ab/ab-1.tgz')
  })

  Art('size limits: a declared length over maxBytes is a 413; an undeclared overflow is cut off', async ({ hub, upstream, state }) => {
    state.maxBytes = 1000
    upstream.route('GET /files/big-1.tgz', { body: randomBytes(2000) })
    const res = await hub.request('GET', '/proxy/ct/files/big/1/big-1.tgz')
    assert.is(res.status, 413)
    await assertNothingStored(hub, 'files/big/big-1.tgz')
    const s = slow(randomBytes(3000), { chunk: 500, delayMs: 5, length: false })
    upstream.route('GET /files/big-2.tgz', s.handler)
    const r = await download(`${hub.url}/proxy/ct/files/big/2/big-2.tgz`)
    assert.not.ok(r.complete)
    assert.ok(r.body.length <= 1000)
    await assertNothingStored(hub, 'files/big/big-2.tgz')
    // Within the limit it works.
    upstream.route('GET /files/ok-1.tgz', { body: randomBytes(999) })
    assert.is((await hub.request('GET', '/proxy/ct/files/ok/1/ok-1.tgz')).status, 200)
  })

  Art('an upstream 404 is a 404 and an upstream 5xx a 502, both storing nothing', async ({ hub, upstream }) => {
    assert.is((await hub.request('GET', '/proxy/ct/files/n/1/n-1.tgz')).status, 404)
    upstream.route('GET /files/e-1.tgz', { status: 500, body: 'boom' })
    assert.is((await hub.request('GET', '/proxy/ct/files/e/1/e-1.tgz')).status, 502)
    await assertNothingStored(hub, 'files/e/e-1.tgz')
    await upstream.close()
    assert.is((await hub.request('GET', '/proxy/ct/files/e/1/e-1.tgz')).status, 502)
  })

  Art('Cas.commitFile hard-links a spooled file into place on the filesystem backend (no second copy)', async ({ hub }) => {
    const data = randomBytes(10_000)
    const file = join(hub.dataDir, 'spool', 'manual')
    writeFileSync(file, data)
    const cas = hub.kernel.storage.cas('default')
    const stored = await cas.commitFile({ key: 'registries/ct/files/m/m.tgz', path: file, sha256: sha('sha256', data), size: data.length })
    assert.is(stored.size, data.length)
    const blob = join(hub.dataDir, 'storage', 'blob', sha('sha256', data))
    assert.is(statSync(blob).ino, statSync(file).ino)
    const back = await cas.get('registries/ct/files/m/m.tgz')
    const chunks: Buffer[] = []
    for await (const c of back!.body) chunks.push(c as Buffer)
    assert.ok(Buffer.concat(chunks).equals(data))
  })

  Art.run()
}

// The S3 path of a commit (an upload of the spool file instead of a link); one dialect suffices.
const S3 = suite('cache artifacts on S3')
S3('a cold artifact is uploaded to an S3 backend from the spool and then served from it', async () => {
  const s3 = await startFakeS3()
  const upstream = await fakeUpstream()
  const state = newState()
  const hub = await createTestKernel({
    discover: false,
    plugins: [cacheTestPlugin(state)],
    config: {
      auth: [],
      storage: { backends: [{ name: 'objects', ...s3.config }] },
      registries: [{ name: 'ct', type: 'cachetest', upstreams: [upstream.url], storage: 'objects' }],
    },
  })
  try {
    const data = randomBytes(300_000)
    state.expect.set('s-1.tgz', { sha256: sha('sha256', data) })
    upstream.route('GET /files/s-1.tgz', slow(data, { chunk: 50_000, delayMs: 5 }).handler)
    const results = await Promise.all(Array.from({ length: 3 }, () => download(`${hub.url}/proxy/ct/files/s/1/s-1.tgz`)))
    for (const r of results) {
      assert.ok(r.complete)
      assert.ok(r.body.equals(data))
    }
    await waitFor(async () => (await hub.request('GET', '/proxy/ct/has/s/s-1.tgz')).json().cached)
    const hit = await hub.request('GET', '/proxy/ct/files/s/1/s-1.tgz')
    assert.is(hit.headers['x-cache'], 'HIT')
    assert.ok(hit.body.equals(data))
    assert.is(upstream.paths.length, 1)
    await waitFor(() => readdirSync(join(hub.dataDir, 'spool')).length === 0)
  } finally {
    await hub.close()
    await upstream.close()
    await s3.close()
  }
})
S3.run()
