import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createTestKernel, fakeUpstream, testDatabaseSettings, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { Kernel } from '../src/kernel.ts'
import type { FakeUpstream } from '@batlehub/sdk/testing'
import { cacheTestPlugin, newState, table, type CacheTestState } from './cache-plugin.ts'

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Ctx {
  hub: KernelTestHandle
  upstream: FakeUpstream
  state: CacheTestState
}

async function boot(t: Ctx, dialect: 'sqlite' | 'postgresql', cache: Record<string, unknown> = {}): Promise<void> {
  t.state = newState()
  t.upstream = await fakeUpstream()
  t.hub = await createTestKernel({
    database: dialect,
    discover: false,
    plugins: [cacheTestPlugin(t.state)],
    config: {
      server: { trust_proxy: true },
      auth: [],
      registries: [{ name: 'ct', type: 'cachetest', mode: 'proxy', upstreams: [t.upstream.url], cache }],
    },
  })
}

function count(upstream: FakeUpstream, path: string): number {
  return upstream.paths.filter((p) => p === path).length
}

for (const dialect of testDialects()) {
  const Meta = suite<Ctx>(`cache metadata (${dialect})`)
  Meta.before.each(async (t) => boot(t, dialect))
  Meta.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
  })

  Meta('a fresh document is served from the cache without asking the upstream', async ({ hub, upstream }) => {
    upstream.route('GET /meta/a', { headers: { 'content-type': 'application/json' }, body: '{"name":"a"}' })
    const first = await hub.request('GET', '/proxy/ct/meta/a')
    assert.is(first.status, 200)
    assert.is(first.text(), '{"name":"a"}')
    assert.is(first.headers['x-cache'], 'MISS')
    assert.is(first.headers['content-length'], '12')
    const second = await hub.request('GET', '/proxy/ct/meta/a')
    assert.is(second.headers['x-cache'], 'HIT')
    assert.is(second.text(), '{"name":"a"}')
    hub.clock.advance(299_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/a')).headers['x-cache'], 'HIT')
    assert.is(count(upstream, '/meta/a'), 1)
    // Past the TTL (300 s by default) the upstream is asked again.
    hub.clock.advance(2_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/a')).headers['x-cache'], 'MISS')
    assert.is(count(upstream, '/meta/a'), 2)
    // A per-request TTL override.
    hub.clock.advance(10_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/a?ttl=5')).headers['x-cache'], 'MISS')
    assert.is(count(upstream, '/meta/a'), 3)
  })

  Meta('revalidates with If-None-Match; a 304 keeps the stored body and skips the transform', async ({ hub, upstream, state }) => {
    const seen: Array<string | undefined> = []
    upstream.route('GET /meta/e', (req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.headers['if-none-match'] as string | undefined)
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' })
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' })
      res.end('{"e":1}')
    })
    assert.is((await hub.request('GET', '/proxy/ct/meta/e')).headers['x-cache'], 'MISS')
    hub.clock.advance(301_000)
    const again = await hub.request('GET', '/proxy/ct/meta/e')
    assert.is(again.status, 200)
    assert.is(again.headers['x-cache'], 'REVALIDATED')
    assert.is(again.text(), '{"e":1}')
    assert.equal(seen, [undefined, '"v1"'])
    assert.is(state.transforms.get('doc/e'), 1)
    // The revalidation refreshed the fetch time: fresh again for a whole TTL.
    hub.clock.advance(200_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/e')).headers['x-cache'], 'HIT')
    assert.is(seen.length, 2)
    const rows = await hub.kernel.db.execute(`select etag from ${table(hub.kernel.db, 'cached_metadata')}`)
    assert.equal(rows.map((r) => r.etag), ['"v1"'])
  })

  Meta('revalidates with If-Modified-Since from the stored Last-Modified', async ({ hub, upstream }) => {
    const lm = 'Tue, 02 Jan 2024 03:04:05 GMT'
    const seen: Array<string | undefined> = []
    upstream.route('GET /meta/l', (req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.headers['if-modified-since'] as string | undefined)
      if (req.headers['if-modified-since'] === lm) {
        res.writeHead(304)
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', 'last-modified': lm })
      res.end('{"l":1}')
    })
    await hub.request('GET', '/proxy/ct/meta/l')
    hub.clock.advance(301_000)
    const again = await hub.request('GET', '/proxy/ct/meta/l')
    assert.is(again.headers['x-cache'], 'REVALIDATED')
    assert.is(again.text(), '{"l":1}')
    assert.equal(seen, [undefined, lm])
  })

  Meta('Cache-Control: no-store is answered but never stored', async ({ hub, upstream }) => {
    upstream.route('GET /meta/ns', { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{"ns":1}' })
    for (let i = 0; i < 3; i++) {
      const res = await hub.request('GET', '/proxy/ct/meta/ns')
      assert.is(res.text(), '{"ns":1}')
      assert.is(res.headers['x-cache'], 'MISS')
    }
    assert.is(count(upstream, '/meta/ns'), 3)
    assert.equal(await hub.kernel.db.execute(`select * from ${table(hub.kernel.db, 'cached_metadata')}`), [])
  })

  Meta('Cache-Control: no-cache revalidates every time; max-age shortens the TTL', async ({ hub, upstream }) => {
    upstream.route('GET /meta/nc', (req: IncomingMessage, res: ServerResponse) => {
      if (req.headers['if-none-match'] === '"nc"') {
        res.writeHead(304, { etag: '"nc"', 'cache-control': 'no-cache' })
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', etag: '"nc"', 'cache-control': 'no-cache' })
      res.end('{"nc":1}')
    })
    assert.is((await hub.request('GET', '/proxy/ct/meta/nc')).headers['x-cache'], 'MISS')
    assert.is((await hub.request('GET', '/proxy/ct/meta/nc')).headers['x-cache'], 'REVALIDATED')
    assert.is((await hub.request('GET', '/proxy/ct/meta/nc')).headers['x-cache'], 'REVALIDATED')
    assert.is(count(upstream, '/meta/nc'), 3)

    upstream.route('GET /meta/ma', { headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=10' }, body: '{"ma":1}' })
    await hub.request('GET', '/proxy/ct/meta/ma')
    hub.clock.advance(9_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/ma')).headers['x-cache'], 'HIT')
    hub.clock.advance(2_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/ma')).headers['x-cache'], 'MISS')
    assert.is(count(upstream, '/meta/ma'), 2)
    // max-age larger than the configured TTL does not lengthen it.
    upstream.route('GET /meta/big', { headers: { 'content-type': 'application/json', 'cache-control': 'max-age=99999' }, body: '{}' })
    await hub.request('GET', '/proxy/ct/meta/big')
    hub.clock.advance(301_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/big')).headers['x-cache'], 'MISS')
  })

  Meta('an upstream failure serves the stale copy with Warning 110; without a copy it is a 502', async ({ hub, upstream }) => {
    upstream.route('GET /meta/s', { headers: { 'content-type': 'application/json' }, body: '{"s":1}' })
    await hub.request('GET', '/proxy/ct/meta/s')
    upstream.route('GET /meta/s', { status: 503, body: 'down' })
    hub.clock.advance(3_600_000)
    const stale = await hub.request('GET', '/proxy/ct/meta/s')
    assert.is(stale.status, 200)
    assert.is(stale.text(), '{"s":1}')
    assert.is(stale.headers['x-cache'], 'STALE')
    assert.is(stale.headers.warning, '110 - "Response is Stale"')
    upstream.route('GET /meta/none', { status: 500, body: 'down' })
    const none = await hub.request('GET', '/proxy/ct/meta/none')
    assert.is(none.status, 502)
    // For a few seconds the stale copy is served without asking the failing upstream again.
    const failures = count(upstream, '/meta/s')
    assert.is((await hub.request('GET', '/proxy/ct/meta/s')).headers['x-cache'], 'STALE')
    assert.is(count(upstream, '/meta/s'), failures)
    // The upstream back: fresh again, no warning.
    upstream.route('GET /meta/s', { headers: { 'content-type': 'application/json' }, body: '{"s":2}' })
    hub.clock.advance(11_000)
    const back = await hub.request('GET', '/proxy/ct/meta/s')
    assert.is(back.text(), '{"s":2}')
    assert.is(back.headers.warning, undefined)
    assert.is(back.headers['x-cache'], 'MISS')
  })

  Meta('a closed upstream (connection refused) also serves stale', async ({ hub, upstream }) => {
    upstream.route('GET /meta/c', { headers: { 'content-type': 'application/json' }, body: '{"c":1}' })
    await hub.request('GET', '/proxy/ct/meta/c')
    await upstream.close()
    hub.clock.advance(3_600_000)
    const stale = await hub.request('GET', '/proxy/ct/meta/c')
    assert.is(stale.status, 200)
    assert.is(stale.headers['x-cache'], 'STALE')
    assert.is(stale.text(), '{"c":1}')
  })

  Meta('an upstream 404 is null and is remembered briefly', async ({ hub, upstream }) => {
    const res = await hub.request('GET', '/proxy/ct/meta/missing')
    assert.is(res.status, 404)
    assert.is((await hub.request('GET', '/proxy/ct/meta/missing')).status, 404)
    assert.is((await hub.request('GET', '/proxy/ct/meta/missing')).status, 404)
    assert.is(count(upstream, '/meta/missing'), 1)
    hub.clock.advance(61_000)
    assert.is((await hub.request('GET', '/proxy/ct/meta/missing')).status, 404)
    assert.is(count(upstream, '/meta/missing'), 2)
    // A transform that returns null counts as absent too.
    upstream.route('GET /meta/gone', { body: 'absent' })
    assert.is((await hub.request('GET', '/proxy/ct/meta/gone')).status, 404)
  })

  Meta('concurrent cold requests share one upstream fetch and one transform', async ({ hub, upstream, state }) => {
    upstream.route('GET /meta/sf', async (_req: IncomingMessage, res: ServerResponse) => {
      await delay(300)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"sf":true}')
    })
    const all = await Promise.all(Array.from({ length: 20 }, () => hub.request('GET', '/proxy/ct/meta/sf')))
    for (const r of all) {
      assert.is(r.status, 200)
      assert.is(r.text(), '{"sf":true}')
    }
    assert.is(count(upstream, '/meta/sf'), 1)
    assert.is(state.transforms.get('doc/sf'), 1)
  })

  Meta('placeholders render per base URL, with Content-Length, a strong ETag, 304 and HEAD', async ({ hub, upstream }) => {
    upstream.route('GET /meta/p', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ tarball: `${upstream.url}/files/p-1.0.0.tgz`, other: `${upstream.url}/x`, extra: '@@X@@' }))
    })
    const a = await hub.request('GET', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'hub-a.example:8443', 'x-forwarded-proto': 'https' } })
    const b = await hub.request('GET', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'b.internal' } })
    assert.equal(a.json(), { tarball: 'https://hub-a.example:8443/proxy/ct/files/p-1.0.0.tgz', other: 'https://hub-a.example:8443/proxy/ct/x', extra: '@@X@@' })
    assert.equal(b.json(), { tarball: 'http://b.internal/proxy/ct/files/p-1.0.0.tgz', other: 'http://b.internal/proxy/ct/x', extra: '@@X@@' })
    assert.is(a.headers['content-length'], String(a.body.length))
    assert.is(b.headers['content-length'], String(b.body.length))
    assert.ok(/^"[A-Za-z0-9_-]{43}"$/.test(a.headers.etag!))
    assert.is.not(a.headers.etag, b.headers.etag)
    assert.is(count(upstream, '/meta/p'), 1)
    // The same base URL gives the same ETag; If-None-Match gets a 304 without a body.
    const again = await hub.request('GET', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'b.internal' } })
    assert.is(again.headers.etag, b.headers.etag)
    const notModified = await hub.request('GET', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'b.internal', 'if-none-match': b.headers.etag! } })
    assert.is(notModified.status, 304)
    assert.is(notModified.body.length, 0)
    const stillA = await hub.request('GET', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'hub-a.example:8443', 'x-forwarded-proto': 'https', 'if-none-match': b.headers.etag! } })
    assert.is(stillA.status, 200)
    const head = await hub.request('HEAD', '/proxy/ct/meta/p', { headers: { 'x-forwarded-host': 'b.internal' } })
    assert.is(head.status, 200)
    assert.is(head.body.length, 0)
    assert.is(head.headers['content-length'], b.headers['content-length'])
    // Extra replacements.
    const x = await hub.request('GET', '/proxy/ct/meta/p?x=replaced', { headers: { 'x-forwarded-host': 'b.internal' } })
    assert.is(x.json().extra, 'replaced')
  })

  Meta('invalidateMetadata drops the document; the next request refetches', async ({ hub, upstream }) => {
    upstream.route('GET /meta/i', { headers: { 'content-type': 'application/json' }, body: '{"i":1}' })
    await hub.request('GET', '/proxy/ct/meta/i')
    assert.is((await hub.kernel.db.execute(`select * from ${table(hub.kernel.db, 'cached_metadata')}`)).length, 1)
    assert.is((await hub.request('DELETE', '/proxy/ct/meta/i')).status, 204)
    assert.equal(await hub.kernel.db.execute(`select * from ${table(hub.kernel.db, 'cached_metadata')}`), [])
    upstream.route('GET /meta/i', { headers: { 'content-type': 'application/json' }, body: '{"i":2}' })
    const res = await hub.request('GET', '/proxy/ct/meta/i')
    assert.is(res.text(), '{"i":2}')
    assert.is(count(upstream, '/meta/i'), 2)
  })

  Meta.run()

  const Restart = suite(`cache metadata across a restart (${dialect})`)
  Restart('a warm document survives a restart and is served stale with the upstream down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bh-cache-restart-'))
    const db = await testDatabaseSettings(dialect)
    const upstream = await fakeUpstream({ 'GET /meta/r': { headers: { 'content-type': 'application/json' }, body: '{"r":"warm"}' } })
    const state = newState()
    const start = async () => {
      const kernel = await Kernel.create({
        rawConfig: {
          server: { host: '127.0.0.1', port: 0, data_dir: dir },
          database: dialect === 'sqlite' ? { type: 'sqlite', path: db.settings.path } : { type: 'postgresql', url: db.settings.url, max_connections: 5 },
          registries: [{ name: 'ct', type: 'cachetest', upstreams: [upstream.url], cache: { metadata_ttl_secs: 0 } }],
        },
        plugins: [cacheTestPlugin(state)],
        discover: false,
        logLevel: 'silent',
        databaseSchema: db.settings.schema,
        print: () => {},
      })
      kernel.closeGraceMs = 200
      return { kernel, url: await kernel.listen(0, '127.0.0.1') }
    }
    try {
      const one = await start()
      const first = await fetch(`${one.url}/proxy/ct/meta/r`)
      assert.is(first.headers.get('x-cache'), 'MISS')
      assert.is(await first.text(), '{"r":"warm"}')
      await one.kernel.close()
      await upstream.close()

      const two = await start()
      try {
        const res = await fetch(`${two.url}/proxy/ct/meta/r`)
        assert.is(res.status, 200)
        assert.is(res.headers.get('x-cache'), 'STALE')
        assert.is(res.headers.get('warning'), '110 - "Response is Stale"')
        assert.is(await res.text(), '{"r":"warm"}')
      } finally {
        await two.kernel.close()
      }
    } finally {
      await upstream.close()
      await db.cleanup().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  })
  Restart.run()
}
