// The proxy cache's artifact path goes through the policy engine: a refused version is neither
// fetched nor served, cached or not; warming never fetches a blocked version.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import type { FakeUpstream } from '@batlehub/sdk/testing'
import { cacheTestPlugin, newState } from './cache-plugin.ts'

const ADMIN = 'admin-token-pc-0123456789'
const ALICE = 'alice-token-pc-0123456789'
/** The test plugin declares every artifact published at 2024-01-02T03:04:05Z. */
const PUBLISHED = Date.parse('2024-01-02T03:04:05.000Z')

for (const dialect of testDialects()) {
  const Cache = suite<{ hub: KernelTestHandle; upstream: FakeUpstream }>(`policy on cached artifacts (${dialect})`)
  Cache.before.each(async (t) => {
    t.upstream = await fakeUpstream({
      'GET /files/pkg-1.0.0.tgz': { body: 'one' },
      'GET /files/pkg-2.0.0.tgz': { body: 'two' },
    })
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [cacheTestPlugin(newState())],
      config: {
        auth: [{ type: 'token', tokens: [{ value: ADMIN, role: 'admin', user_id: 'root' }, { value: ALICE, role: 'user', user_id: 'alice' }] }],
        registries: [{
          name: 'c', type: 'cachetest', upstreams: [t.upstream.url],
          rules: [{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] }],
        }],
      },
    })
    t.hub.clock.set(PUBLISHED + 26 * 60_000)
  })
  Cache.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
  })

  Cache('a gated version is refused before any upstream fetch, and stays refused once cached', async ({ hub, upstream }) => {
    const refused = await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ALICE })
    assert.is(refused.status, 403)
    assert.match(refused.text(), /published 26m ago/)
    assert.equal(upstream.paths, [])
    // The admin bypasses the gate: fetched and cached.
    assert.is((await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ADMIN })).text(), 'one')
    assert.is((await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ALICE })).status, 403)
    hub.clock.advance(34 * 60_000)
    const hit = await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ALICE })
    assert.equal([hit.status, hit.text(), hit.headers['x-cache']], [200, 'one', 'HIT'])
    assert.equal(upstream.paths, ['/files/pkg-1.0.0.tgz'])
    const log = (await hub.request('GET', '/api/v1/admin/audit-log?registry=c', { token: ADMIN })).json() as any[]
    assert.equal(log.map((e) => [e.user_id, e.outcome, e.rule]).reverse(), [
      ['alice', 'deny', 'release_age_gate'], ['root', 'allow', null], ['alice', 'deny', 'release_age_gate'], ['alice', 'allow', null],
    ])
  })

  Cache('blocked versions: refused to admins, cached or not; warming skips them', async ({ hub, upstream }) => {
    hub.clock.advance(24 * 3600_000)
    assert.is((await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ALICE })).status, 200)
    await hub.request('POST', '/api/v1/admin/packages/bulk-block', { token: ADMIN, body: { packages: [
      { registry: 'c', name: 'pkg', version: '1.0.0' }, { registry: 'c', name: 'pkg', version: '2.0.0' },
    ] } })
    assert.is((await hub.request('GET', '/proxy/c/files/pkg/1.0.0/pkg-1.0.0.tgz', { token: ADMIN })).status, 403)
    assert.is((await hub.request('HEAD', '/proxy/c/files/pkg/2.0.0/pkg-2.0.0.tgz', { token: ADMIN })).status, 403)
    const warm = await hub.request('POST', '/api/v1/admin/registries/c/warm', { token: ADMIN, body: { package: 'pkg@2.0.0' } })
    assert.equal(warm.json(), { warmed: 0, skipped: 0, errors: 1 })
    assert.equal(upstream.paths, ['/files/pkg-1.0.0.tgz'])
  })

  Cache.run()
}
