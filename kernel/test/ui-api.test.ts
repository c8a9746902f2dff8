import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { request as httpRequest } from 'node:http'
import { defineRegistryPlugin } from '@batlehub/sdk'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { cacheTestPlugin, newState } from './cache-plugin.ts'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { BannerService, DatabaseBannerStore } from '../src/api/banner.ts'

const ADMIN = 'ui-api-admin-token-0123456789'
const USER = 'ui-api-user-token-0123456789'

const snippets = defineRegistryPlugin({
  id: 'snippets',
  capabilities: { proxy: true, publish: true, search: false, yank: false },
  setup: () => ({
    setupSnippets: ({ baseUrl, registryName, mode }) => [
      { title: '.toolrc', language: 'ini', content: `registry=${baseUrl}/`, purpose: 'install' },
      { title: 'Publish', language: 'shell', content: `tool publish --to ${registryName} (${mode})`, purpose: 'publish' },
      // Malformed entries are dropped rather than shown.
      { title: 'broken', language: 'ini', content: 42, purpose: 'install' } as never,
      { title: 'bad purpose', language: 'ini', content: 'x', purpose: 'other' } as never,
    ],
  }),
})
const throwing = defineRegistryPlugin({
  id: 'throwing',
  capabilities: { proxy: true, publish: false, search: false, yank: false },
  setup: () => ({ setupSnippets: () => { throw new Error('plugin bug') } }),
})
const silent = defineRegistryPlugin({ id: 'silent', capabilities: { proxy: true, publish: false, search: false, yank: false }, setup: () => ({}) })

/** GET with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(base: string, path: string, host: string, token: string): Promise<any> {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: { host, authorization: `Bearer ${token}` } }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve(JSON.parse(body)))
    })
    req.on('error', reject)
    req.end()
  })
}

const REDIS_URL = process.env.BATLEHUB_TEST_REDIS_URL || 'redis://127.0.0.1:6379'

const tokens = [{ type: 'token', tokens: [
  { value: ADMIN, role: 'admin', user_id: 'root' },
  { value: USER, role: 'user', user_id: 'alice', groups: ['ci', 'oidc:frontend'] },
] }]

for (const dialect of testDialects()) {
  // `[cache] type = "postgres"` needs a PostgreSQL database (config validation refuses it on SQLite).
  for (const cacheType of dialect === 'postgresql' ? ['memory', 'postgres'] as const : ['memory'] as const) {
    const Banner = suite<{ hub: KernelTestHandle }>(`banner API (${dialect}, cache ${cacheType})`)
    Banner.before.each(async (t) => {
      t.hub = await createTestKernel({ database: dialect, config: { auth: tokens, cache: { type: cacheType } } })
    })
    Banner.after.each(async (t) => {
      await t.hub.close()
    })

    Banner('anyone reads it, admins set and clear it', async ({ hub }) => {
      assert.equal((await hub.request('GET', '/api/v1/banner')).json(), { banner: null })
      assert.is((await hub.request('PUT', '/api/v1/admin/banner', { body: { message: 'x' } })).status, 401)
      assert.is((await hub.request('PUT', '/api/v1/admin/banner', { token: USER, body: { message: 'x' } })).status, 403)
      const set = await hub.request('PUT', '/api/v1/admin/banner', { token: ADMIN, body: { message: 'Scheduled maintenance in 30 min', level: 'warning' } })
      assert.is(set.status, 200)
      const expected = { message: 'Scheduled maintenance in 30 min', level: 'warning', set_by: 'root', set_at: new Date(hub.clock.now()).toISOString() }
      assert.equal(set.json(), { banner: expected })
      const read = await hub.request('GET', '/api/v1/banner')
      assert.equal(read.json(), { banner: expected })
      assert.is(read.headers['cache-control'], 'no-store')
      const info = await hub.request('PUT', '/api/v1/admin/banner', { token: ADMIN, body: { message: 'Hello' } })
      assert.is(info.json().banner.level, 'info')
      for (const body of [{ message: '' }, { message: 'x'.repeat(501) }, { message: 'x', level: 'fatal' }, { level: 'info' }, { message: 'x', extra: true }]) {
        const bad = await hub.request('PUT', '/api/v1/admin/banner', { token: ADMIN, body })
        assert.is(bad.status, 400, JSON.stringify(body))
      }
      assert.is((await hub.request('DELETE', '/api/v1/admin/banner', { token: USER })).status, 403)
      assert.equal((await hub.request('DELETE', '/api/v1/admin/banner', { token: ADMIN })).json(), { ok: true })
      assert.equal((await hub.request('GET', '/api/v1/banner')).json(), { banner: null })
    })

    Banner(cacheType === 'memory' ? 'the memory store keeps the banner out of the database' : 'the postgres store shares the banner through system_kv', async ({ hub }) => {
      await hub.request('PUT', '/api/v1/admin/banner', { token: ADMIN, body: { message: 'Shared', level: 'error' } })
      // Another replica on the same database: a second service over the same table.
      const other = new BannerService(new DatabaseBannerStore(hub.kernel.db), hub.clock, hub.kernel.log)
      const seen = await other.get()
      if (cacheType === 'memory') assert.is(seen, null)
      else {
        assert.equal([seen?.message, seen?.level], ['Shared', 'error'])
        await other.clear('root')
        assert.equal((await hub.request('GET', '/api/v1/banner')).json(), { banner: null })
      }
    })
    Banner.run()
  }

  const SharedBanner = suite<{ prefix: string; hubs: KernelTestHandle[] }>(`banner in Redis shared by two hubs (${dialect})`)
  SharedBanner.before.each((t) => {
    t.prefix = `bh-ui-test-${randomBytes(6).toString('hex')}:`
    t.hubs = []
  })
  SharedBanner.after.each(async (t) => {
    for (const h of t.hubs) await h.close()
    const redis = new Redis(REDIS_URL)
    await redis.del(`${t.prefix}system:banner`)
    await redis.quit()
  })
  SharedBanner('every replica shows the banner set on one of them', async (t) => {
    const cache = { type: 'redis', url: REDIS_URL, key_prefix: t.prefix }
    const a = await createTestKernel({ database: dialect, config: { auth: tokens, cache } })
    t.hubs.push(a)
    const b = await createTestKernel({ database: dialect, config: { auth: tokens, cache } })
    t.hubs.push(b)
    await a.request('PUT', '/api/v1/admin/banner', { token: ADMIN, body: { message: 'Reload in progress', level: 'info' } })
    assert.is((await b.request('GET', '/api/v1/banner')).json().banner.message, 'Reload in progress')
    const redis = new Redis(REDIS_URL)
    try {
      assert.is(JSON.parse((await redis.get(`${t.prefix}system:banner`))!).message, 'Reload in progress')
    } finally {
      await redis.quit()
    }
    await b.request('DELETE', '/api/v1/admin/banner', { token: ADMIN })
    assert.equal((await a.request('GET', '/api/v1/banner')).json(), { banner: null })
  })
  SharedBanner.run()

  const Guide = suite<{ hub: KernelTestHandle }>(`setup guide, whoami, dashboard (${dialect})`)
  Guide.before.each(async (t) => {
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [snippets, throwing, silent],
      config: {
        auth: tokens,
        registries: [
          { name: 'tools', type: 'snippets', upstreams: ['http://127.0.0.1:9'] },
          { name: 'internal-tools', type: 'snippets', mode: 'hybrid', upstreams: ['http://127.0.0.1:9'] },
          { name: 'buggy', type: 'throwing', upstreams: ['http://127.0.0.1:9'] },
          { name: 'plain', type: 'silent', upstreams: ['http://127.0.0.1:9'] },
        ],
      },
    })
  })
  Guide.after.each(async (t) => {
    await t.hub.close()
  })

  Guide('the setup guide fills each plugin\'s snippets with this server\'s address', async ({ hub }) => {
    const res = await hub.request('GET', '/api/v1/setup')
    assert.is(res.status, 200)
    const body = res.json()
    assert.is(body.server_url, hub.url)
    assert.equal(body.registries.map((r: any) => [r.name, r.type, r.mode, r.url, r.accessible, r.snippets.length]), [
      ['tools', 'snippets', 'proxy', `${hub.url}/proxy/tools/`, true, 2],
      ['internal-tools', 'snippets', 'hybrid', `${hub.url}/proxy/internal-tools/`, false, 2],
      ['buggy', 'throwing', 'proxy', `${hub.url}/proxy/buggy/`, true, 0],
      ['plain', 'silent', 'proxy', `${hub.url}/proxy/plain/`, true, 0],
    ])
    assert.equal(body.registries[0].snippets, [
      { title: '.toolrc', language: 'ini', content: `registry=${hub.url}/proxy/tools/`, purpose: 'install' },
      { title: 'Publish', language: 'shell', content: 'tool publish --to tools (proxy)', purpose: 'publish' },
    ])
    // Behind a reverse proxy the address is the Host the client used.
    const proxied = await getWithHost(hub.url, '/api/v1/setup', 'hub.example.com:8443', USER)
    assert.is(proxied.server_url, 'http://hub.example.com:8443')
    assert.is(proxied.registries[1].accessible, true)
  })

  Guide('server.public_url wins over the request address', async () => {
    const hub = await createTestKernel({ database: dialect, plugins: [snippets], config: { server: { public_url: 'https://hub.example.com/' }, registries: [{ name: 'tools', type: 'snippets', upstreams: ['http://127.0.0.1:9'] }] } })
    try {
      const body = (await hub.request('GET', '/api/v1/setup')).json()
      assert.is(body.server_url, 'https://hub.example.com')
      assert.is(body.registries[0].snippets[0].content, 'registry=https://hub.example.com/proxy/tools/')
    } finally {
      await hub.close()
    }
  })

  Guide('whoami tells the UI who the token belongs to and what it may explore', async ({ hub }) => {
    assert.equal((await hub.request('GET', '/api/v1/auth/whoami')).json(), {
      user_id: 'anonymous', role: 'anonymous', groups: [], provider: 'anonymous', display_name: null,
      explorable_registries: ['tools', 'buggy', 'plain'],
    })
    const user = (await hub.request('GET', '/api/v1/auth/whoami', { token: USER })).json()
    assert.equal([user.user_id, user.role, user.groups, user.provider], ['alice', 'user', ['ci', 'oidc:frontend'], 'token'])
    assert.equal(user.explorable_registries, ['tools', 'internal-tools', 'buggy', 'plain'])
    const bad = await hub.request('GET', '/api/v1/auth/whoami', { token: 'not-a-token' })
    assert.is(bad.status, 401)
  })

  Guide('the dashboard counts hits, misses and bandwidth saved per registry and in total', async () => {
    // Real downloads through the proxy/cache engine, from a fixture upstream.
    const up = await fakeUpstream({
      'GET /files/x-1.0.0.tgz': { body: 'x'.repeat(1000) },
      'GET /files/y-2.0.0.tgz': { body: 'y'.repeat(500) },
      'GET /meta/x': { body: '{"name":"x"}', headers: { 'content-type': 'application/json' } },
    })
    const hub = await createTestKernel({
      database: dialect,
      plugins: [cacheTestPlugin(newState())],
      config: { auth: tokens, registries: [
        { name: 'tools', type: 'cachetest', upstreams: [up.url] },
        { name: 'other', type: 'cachetest', upstreams: [up.url] },
        { name: 'quiet', type: 'cachetest', upstreams: [up.url] },
      ] },
    })
    try {
      assert.is((await hub.request('GET', '/api/v1/admin/dashboard', { token: USER })).status, 403)
      const fetch = async (path: string) => assert.is((await hub.request('GET', path, { token: USER })).status, 200, path)
      for (let i = 0; i < 4; i++) await fetch('/proxy/tools/files/x/1.0.0/x-1.0.0.tgz')
      await fetch('/proxy/tools/meta/x')
      await fetch('/proxy/tools/meta/x')
      await fetch('/proxy/other/files/y/2.0.0/y-2.0.0.tgz')
      await hub.kernel.proxyCache.flush()
      const body = (await hub.request('GET', '/api/v1/admin/dashboard', { token: ADMIN })).json()
      assert.equal(body.totals, {
        hits: 3, misses: 2, metadata_hits: 1, metadata_misses: 1, hit_rate: 0.6, bytes_saved: 3000, bytes_fetched: 1500,
        cached_artifacts: 2, cached_bytes: 1500, packages: 2,
      })
      assert.equal(body.registries.find((r: any) => r.registry === 'tools'), {
        registry: 'tools', type: 'cachetest', mode: 'proxy', hits: 3, misses: 1, metadata_hits: 1, metadata_misses: 1, hit_rate: 0.75,
        bytes_saved: 3000, bytes_fetched: 1000, cached_artifacts: 1, cached_bytes: 1000, packages: 1, local_packages: 0,
      })
      const other = body.registries.find((r: any) => r.registry === 'other')
      assert.equal([other.hits, other.misses, other.hit_rate, other.bytes_fetched, other.packages], [0, 1, 0, 500, 1])
      assert.is(body.registries.find((r: any) => r.registry === 'quiet').hit_rate, null)
      assert.is(body.since, new Date(hub.clock.now()).toISOString())
      // The same numbers as /metrics.
      const metrics = (await hub.request('GET', '/metrics')).text()
      assert.match(metrics, /batlehub_cache_hits_total\{registry="tools",kind="artifact"\} 3/)
      // The explorer sees the proxied downloads too.
      const x = (await hub.request('GET', '/api/v1/explore/packages/tools/x', { token: USER })).json()
      assert.equal(x.versions.map((v: any) => [v.version, v.source, v.download_count]), [['1.0.0', 'proxied', 4]])
    } finally {
      await hub.close()
      await up.close()
    }
  })

  Guide('the OpenAPI document describes the explorer, banner, setup and UI endpoints', async ({ hub }) => {
    const paths = Object.keys((await hub.request('GET', '/api/v1/openapi.json')).json().paths)
    for (const p of ['/api/v1/explore/packages', '/api/v1/explore/registries', '/api/v1/explore/packages/{registry}/{name}', '/api/v1/explore/upstream',
      '/api/v1/admin/explore/invalidate', '/api/v1/banner', '/api/v1/admin/banner', '/api/v1/setup', '/api/v1/admin/dashboard', '/api/v1/auth/whoami', '/api/v1/ui/plugins']) {
      assert.ok(paths.includes(p), p)
    }
  })
  Guide.run()
}
