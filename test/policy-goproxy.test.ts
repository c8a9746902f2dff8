/**
 * The policy engine on the Go module proxy protocol: `@v/list` leaves out blocked versions,
 * downloads of blocked or too-young versions are refused, and deny_latest refuses `@latest`.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import goproxy from '../plugins/registry-goproxy/src/index.ts'
import { startGoUpstream, type GoUpstream } from '../plugins/registry-goproxy/test/support/fixture.ts'

const ADMIN = 'admin-token-e2e-go-0123456789'

const Go = suite<{ hub: TestKernel; upstream: GoUpstream }>('policy: goproxy')
Go.before.each(async (t) => {
  t.upstream = await startGoUpstream()
  t.hub = await createTestKernel({
    plugins: [goproxy],
    config: {
      auth: [{ type: 'token', tokens: [{ value: ADMIN, role: 'admin', user_id: 'root' }] }],
      registries: [{
        name: 'go', type: 'goproxy', upstreams: [t.upstream.url], rbac: { anonymous: ['releases:read', 'source:read'], admin: ['*'] },
        rules: [{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: [] }, { kind: 'deny_latest', bypass_roles: ['admin'] }],
      }],
    },
  })
  // lib v1.1.0 was published at 2024-02-01T00:00:00Z: thirty minutes ago.
  t.hub.clock.set(Date.parse('2024-02-01T00:30:00Z'))
})
Go.after.each(async (t) => {
  await t.hub.close()
  await t.upstream.close()
})

Go('lists, downloads and @latest follow the policy', async ({ hub }) => {
  const list = await hub.request('GET', '/proxy/go/example.com/lib/@v/list')
  // The list carries no publish times: only blocks can be applied to it.
  assert.equal(list.text().trim().split('\n'), ['v1.0.0', 'v1.1.0', 'v1.2.0-beta.1'])
  const young = await hub.request('GET', '/proxy/go/example.com/lib/@v/v1.1.0.zip')
  assert.is(young.status, 403)
  assert.match(young.text(), /release_age_gate/)
  assert.is((await hub.request('GET', '/proxy/go/example.com/lib/@v/v1.0.0.zip')).status, 200)
  const latest = await hub.request('GET', '/proxy/go/example.com/lib/@latest')
  assert.is(latest.status, 403)
  assert.match(latest.text(), /deny_latest/)
  assert.is((await hub.request('GET', '/proxy/go/example.com/lib/@latest', { token: ADMIN })).status, 200)

  const block = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'go', name: 'example.com/lib', version: 'v1.0.0', reason: 'bad' } })
  assert.is(block.status, 200)
  assert.equal((await hub.request('GET', '/proxy/go/example.com/lib/@v/list')).text().trim().split('\n'), ['v1.1.0', 'v1.2.0-beta.1'])
  assert.is((await hub.request('GET', '/proxy/go/example.com/lib/@v/v1.0.0.zip', { token: ADMIN })).status, 403)
  // Other modules keep the cached list untouched.
  assert.equal((await hub.request('GET', '/proxy/go/example.com/dep/@v/list')).text(), 'v1.0.0\n')
})
Go.run()
