import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fileURLToPath } from 'node:url'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import type { FakeUpstream } from '@batlehub/sdk/testing'
import { cacheTestPlugin, newState, table, type CacheTestState } from './cache-plugin.ts'

const AUTH_TOKEN_PLUGIN = fileURLToPath(new URL('../../../plugins/auth-token', import.meta.url))
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Ctx {
  hub: KernelTestHandle
  upstream: FakeUpstream
  state: CacheTestState
}

async function boot(t: Ctx, dialect: 'sqlite' | 'postgresql', cache: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []): Promise<void> {
  t.state = newState()
  t.upstream = await fakeUpstream()
  for (const name of ['lodash', 'serde', 'other']) {
    for (const v of ['1.0.0', '1.1.0', '2.0.0', '3.0.0-beta.1']) {
      t.upstream.route(`GET /files/${name}-${v}.tgz`, { body: `${name} ${v} ${'x'.repeat(100)}` })
    }
  }
  t.state.versions.set('lodash', [
    { version: '3.0.0-beta.1', prerelease: true }, { version: '2.0.0' }, { version: '1.1.0', yanked: true }, { version: '1.0.0' },
  ])
  t.hub = await createTestKernel({
    database: dialect,
    discover: false,
    plugins: [AUTH_TOKEN_PLUGIN, cacheTestPlugin(t.state), cacheTestPlugin({ ...newState(), noHooks: true }, 'nohooks')],
    config: {
      registries: [
        { name: 'ct', type: 'cachetest', mode: 'proxy', upstreams: [t.upstream.url], cache },
        { name: 'bare', type: 'nohooks', mode: 'proxy', upstreams: [t.upstream.url] },
        ...extra,
      ],
    },
  })
}

const get = (hub: KernelTestHandle, name: string, v: string) => hub.request('GET', `/proxy/ct/files/${name}/${v}/${name}-${v}.tgz`)

async function rows(hub: KernelTestHandle, sql: (t: (name: string) => string) => string): Promise<Record<string, unknown>[]> {
  return hub.kernel.db.execute(sql((name) => table(hub.kernel.db, name)))
}

for (const dialect of testDialects()) {
  const Admin = suite<Ctx>(`cache admin (${dialect})`)
  Admin.before.each(async (t) => boot(t, dialect))
  Admin.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
  })

  Admin('downloads are counted in memory and written in batches by the flush', async ({ hub }) => {
    for (let i = 0; i < 3; i++) assert.is((await get(hub, 'lodash', '1.0.0')).status, 200)
    assert.is((await get(hub, 'serde', '2.0.0')).status, 200)
    // HEAD and range requests are accesses, not downloads.
    assert.is((await hub.request('HEAD', '/proxy/ct/files/lodash/1.0.0/lodash-1.0.0.tgz')).status, 200)
    assert.is((await hub.request('GET', '/proxy/ct/files/lodash/1.0.0/lodash-1.0.0.tgz', { headers: { range: 'bytes=0-3' } })).status, 206)
    assert.equal(await rows(hub, (t) => `select * from ${t('package_statuses')}`), [], 'nothing written on the hot path')
    const flushed = await hub.kernel.proxyCache.flush()
    assert.equal(flushed, { versions: 2, artifacts: 2 })
    const statuses = await rows(hub, (t) => `select package_name, package_version, download_count, last_accessed_at, first_seen_at, published_at from ${t('package_statuses')} order by package_name`)
    assert.equal(statuses.map((r) => [r.package_name, r.package_version, Number(r.download_count)]), [['lodash', '1.0.0', 3], ['serde', '2.0.0', 1]])
    assert.ok(statuses.every((r) => r.last_accessed_at !== null && r.first_seen_at !== null && r.published_at !== null))
    // A second batch adds to the first.
    await get(hub, 'lodash', '1.0.0')
    await hub.kernel.proxyCache.flush()
    const again = await rows(hub, (t) => `select download_count from ${t('package_statuses')} where package_name = 'lodash'`)
    assert.is(Number(again[0]!.download_count), 4)
    assert.equal(await hub.kernel.proxyCache.flush(), { versions: 0, artifacts: 0 })
  })

  Admin('the admin endpoints need the admin role', async ({ hub }) => {
    const calls: Array<[string, string, Record<string, unknown>?]> = [
      ['POST', '/api/v1/admin/registries/ct/clear-cache'],
      ['POST', '/api/v1/admin/packages/invalidate', { registry: 'ct', name: 'lodash', version: '1.0.0' }],
      ['GET', '/api/v1/admin/packages'],
      ['POST', '/api/v1/admin/registries/ct/warm', { package: 'lodash' }],
    ]
    for (const [method, path, body] of calls) {
      assert.is((await hub.request(method, path, { ...(body ? { body } : {}) })).status, 401, `anonymous ${path}`)
      assert.is((await hub.request(method, path, { token: hub.userToken, ...(body ? { body } : {}) })).status, 403, `user ${path}`)
    }
    assert.is((await hub.request('POST', '/api/v1/admin/registries/nope/clear-cache', { token: hub.adminToken })).status, 404)
    const spec = (await hub.request('GET', '/api/v1/openapi.json')).json()
    for (const p of ['/api/v1/admin/registries/{registry}/clear-cache', '/api/v1/admin/packages/invalidate', '/api/v1/admin/packages', '/api/v1/admin/registries/{registry}/warm']) {
      assert.ok(spec.paths[p], `${p} in the OpenAPI document`)
    }
  })

  Admin('clear-cache removes cached artifacts and metadata of one registry, never local files', async ({ hub, upstream }) => {
    upstream.route('GET /meta/lodash', { headers: { 'content-type': 'application/json' }, body: '{"name":"lodash"}' })
    await hub.request('GET', '/proxy/ct/meta/lodash')
    await get(hub, 'lodash', '1.0.0')
    await get(hub, 'lodash', '2.0.0')
    await hub.request('GET', '/proxy/bare/files/serde/1.0.0/serde-1.0.0.tgz')
    assert.is((await hub.request('PUT', '/proxy/ct/local/mine.txt', { token: hub.adminToken, body: 'published' })).status, 201)
    let cleared = false
    hub.kernel.bus.on('core:cache.cleared', (e) => {
      cleared = e.registry === 'ct'
    })
    const res = await hub.request('POST', '/api/v1/admin/registries/ct/clear-cache', { token: hub.adminToken })
    assert.is(res.status, 200)
    assert.equal(res.json(), { cleared: { artifacts: 2, metadata: 1 } })
    assert.ok(cleared)
    const refs = await rows(hub, (t) => `select "key" from ${t('storage_refs')} order by "key"`)
    assert.equal(refs.map((r) => r.key), ['registries/bare/files/serde/serde-1.0.0.tgz', 'registries/ct/local/mine.txt'])
    assert.equal(await rows(hub, (t) => `select * from ${t('cached_metadata')}`), [])
    assert.is((await hub.request('GET', '/proxy/ct/local/mine.txt', { token: hub.adminToken })).text(), 'published')
    // The next requests go upstream again.
    upstream.reset()
    assert.is((await get(hub, 'lodash', '1.0.0')).headers['x-cache'], 'MISS')
    assert.is((await hub.request('GET', '/proxy/ct/meta/lodash')).headers['x-cache'], 'MISS')
    assert.equal(upstream.paths, ['/files/lodash-1.0.0.tgz', '/meta/lodash'])
  })

  Admin('invalidate removes one version and the package metadata; the next request refetches', async ({ hub, upstream }) => {
    upstream.route('GET /meta/lodash', { headers: { 'content-type': 'application/json' }, body: '{"name":"lodash"}' })
    upstream.route('GET /meta/serde', { headers: { 'content-type': 'application/json' }, body: '{"name":"serde"}' })
    await hub.request('GET', '/proxy/ct/meta/lodash')
    await hub.request('GET', '/proxy/ct/meta/serde')
    await get(hub, 'lodash', '1.0.0')
    await get(hub, 'lodash', '2.0.0')
    const res = await hub.request('POST', '/api/v1/admin/packages/invalidate', { token: hub.adminToken, body: { registry: 'ct', name: 'lodash', version: '1.0.0' } })
    assert.is(res.status, 200, res.text())
    assert.equal(res.json(), { invalidated: { artifacts: 1, metadata: 1 } })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.0.0.tgz')).json(), { cached: false })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-2.0.0.tgz')).json(), { cached: true })
    const meta = await rows(hub, (t) => `select cache_key from ${t('cached_metadata')}`)
    assert.equal(meta.map((r) => r.cache_key), ['doc/serde'])
    upstream.reset()
    assert.is((await get(hub, 'lodash', '1.0.0')).headers['x-cache'], 'MISS')
    assert.equal(upstream.paths, ['/files/lodash-1.0.0.tgz'])
    const bad = await hub.request('POST', '/api/v1/admin/packages/invalidate', { token: hub.adminToken, body: { registry: 'ct' } })
    assert.is(bad.status, 400)
  })

  Admin('the package list joins download counts and cached artifacts, with paging', async ({ hub }) => {
    await get(hub, 'lodash', '1.0.0')
    await get(hub, 'lodash', '1.0.0')
    await get(hub, 'lodash', '2.0.0')
    await get(hub, 'serde', '1.0.0')
    await hub.kernel.proxyCache.flush()
    await hub.request('POST', '/api/v1/admin/packages/invalidate', { token: hub.adminToken, body: { registry: 'ct', name: 'serde', version: '1.0.0' } })
    const all = await hub.request('GET', '/api/v1/admin/packages', { token: hub.adminToken })
    assert.is(all.status, 200)
    const body = all.json()
    assert.is(body.total, 3)
    assert.equal(body.items.map((i: any) => [i.name, i.version, i.cached, i.download_count]), [
      ['lodash', '1.0.0', true, 2], ['lodash', '2.0.0', true, 1], ['serde', '1.0.0', false, 1],
    ])
    const first = body.items[0]
    assert.is(first.registry, 'ct')
    assert.is(first.size_bytes, 'lodash 1.0.0 '.length + 100)
    assert.ok(first.last_accessed && first.cached_at)
    const filtered = (await hub.request('GET', '/api/v1/admin/packages?registry=ct&name=lodash&per_page=1&page=1', { token: hub.adminToken })).json()
    assert.is(filtered.total, 2)
    assert.equal(filtered.items.map((i: any) => i.version), ['2.0.0'])
    assert.is(filtered.page, 1)
    assert.is(filtered.per_page, 1)
    assert.is((await hub.request('GET', '/api/v1/admin/packages?registry=nope', { token: hub.adminToken })).status, 404)
  })

  Admin('warming uses listVersions and artifactsFor: newest releases, pinned versions, skips, errors, 501', async ({ hub, upstream, state }) => {
    const warm = (registry: string, body: Record<string, unknown>) => hub.request('POST', `/api/v1/admin/registries/${registry}/warm`, { token: hub.adminToken, body })
    const one = await warm('ct', { package: 'lodash' })
    assert.is(one.status, 200, one.text())
    assert.equal(one.json(), { warmed: 1, skipped: 0, errors: 0 })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-2.0.0.tgz')).json(), { cached: true })
    // Yanked versions and pre-releases are left out: 2.0.0 and 1.0.0.
    const two = await warm('ct', { package: 'lodash', versions: 5 })
    assert.equal(two.json(), { warmed: 1, skipped: 1, errors: 0 })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.0.0.tgz')).json(), { cached: true })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.1.0.tgz')).json(), { cached: false })
    const pinned = await warm('ct', { package: 'serde@1.1.0' })
    assert.equal(pinned.json(), { warmed: 1, skipped: 0, errors: 0 })
    const missingVersion = await warm('ct', { package: 'serde@9.9.9' })
    assert.equal(missingVersion.json(), { warmed: 0, skipped: 0, errors: 1 })
    assert.is((await warm('ct', { package: 'nonexistent' })).status, 404)
    assert.is((await warm('bare', { package: 'lodash' })).status, 501)
    assert.is((await warm('ct', { package: '' })).status, 400)
    // The warmed versions are served from the cache.
    upstream.reset()
    assert.is((await get(hub, 'lodash', '2.0.0')).headers['x-cache'], 'HIT')
    assert.equal(upstream.paths, [])
    assert.ok(state.versions.has('lodash'))
  })

  Admin.run()

  const Background = suite<Ctx>(`cache background jobs (${dialect})`)
  Background.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
  })

  Background('start-up warming runs after the server listens', async (t) => {
    await boot(t, dialect, { warm_packages: ['lodash', 'serde@1.0.0', 'nonexistent'], warm_latest_n: 2, warm_concurrency: 1 })
    const cached = async (name: string, file: string) => (await t.hub.request('GET', `/proxy/ct/has/${name}/${file}`)).json().cached
    const until = Date.now() + 10_000
    while (!((await cached('lodash', 'lodash-2.0.0.tgz')) && (await cached('lodash', 'lodash-1.0.0.tgz')) && (await cached('serde', 'serde-1.0.0.tgz')))) {
      if (Date.now() > until) throw new Error('warming did not finish')
      await delay(50)
    }
  })

  Background('eviction: artifact TTL, idle days, keep_latest_n and max_size_bytes', async (t) => {
    await boot(t, dialect, { keep_latest_n: 2, artifact_ttl_secs: 3600 }, [])
    const { hub } = t
    await get(hub, 'lodash', '1.0.0')
    hub.clock.advance(1000)
    await get(hub, 'lodash', '1.1.0')
    hub.clock.advance(1000)
    await get(hub, 'lodash', '2.0.0')
    const [report] = await hub.kernel.proxyCache.evict()
    assert.equal(report, { registry: 'ct', ttl: 0, idle: 0, keep_latest: 1, max_size: 0 })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.0.0.tgz')).json(), { cached: false })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-2.0.0.tgz')).json(), { cached: true })
    hub.clock.advance(3_601_000)
    const [later] = await hub.kernel.proxyCache.evict()
    assert.is(later!.ttl, 2)
    assert.equal(await rows(hub, (tb) => `select * from ${tb('cached_artifacts')}`), [])
  })

  Background('eviction: idle artifacts and the LRU size cap', async (t) => {
    await boot(t, dialect, { idle_days: 1, max_size_bytes: 250 })
    const { hub } = t
    await get(hub, 'lodash', '1.0.0') // 113 bytes each
    hub.clock.advance(1000)
    await get(hub, 'serde', '1.0.0')
    hub.clock.advance(1000)
    await get(hub, 'other', '1.0.0')
    hub.clock.advance(1000)
    await get(hub, 'lodash', '1.0.0') // lodash is now the most recently used
    const [report] = await hub.kernel.proxyCache.evict()
    assert.equal(report, { registry: 'ct', ttl: 0, idle: 0, keep_latest: 0, max_size: 1 })
    assert.equal((await hub.request('GET', '/proxy/ct/has/serde/serde-1.0.0.tgz')).json(), { cached: false })
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.0.0.tgz')).json(), { cached: true })
    hub.clock.advance(86_400_000 + 5000)
    await get(hub, 'other', '1.0.0')
    const [idle] = await hub.kernel.proxyCache.evict()
    assert.is(idle!.idle, 1)
    assert.equal((await hub.request('GET', '/proxy/ct/has/lodash/lodash-1.0.0.tgz')).json(), { cached: false })
    assert.equal((await hub.request('GET', '/proxy/ct/has/other/other-1.0.0.tgz')).json(), { cached: true })
  })

  Background.run()
}
