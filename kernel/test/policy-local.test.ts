// The local store's downloads go through the policy engine: plugins get the gate for free.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { localHub, put, TOKENS } from './local-helpers.ts'

const HOUR = 3_600_000

for (const dialect of testDialects()) {
  const Local = suite<{ hub: KernelTestHandle }>(`policy on local downloads (${dialect})`)
  Local.before.each(async (t) => {
    t.hub = await localHub(dialect, [{
      name: 'gated-local', type: 'pkgs', mode: 'local',
      rbac: { anonymous: ['releases:read', 'source:read'], user: ['releases:write'], admin: ['*'] },
      rules: [{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] }],
    }])
  })
  Local.after.each(async (t) => {
    await t.hub.close()
  })

  Local('serveFile applies the age gate and the blocklist, and audits each download', async ({ hub }) => {
    assert.is((await put(hub, 'gated-local', TOKENS.alice, 'Acme_Lib', '1.0.0', 'acme-1.0.0.tgz', 'one')).status, 201)
    const url = '/proxy/gated-local/files/acme-lib/1.0.0/acme-1.0.0.tgz'
    const fresh = await hub.request('GET', url, { token: TOKENS.alice })
    assert.is(fresh.status, 403)
    assert.match(fresh.json().error, /release_age_gate/)
    assert.is((await hub.request('GET', url, { token: TOKENS.root })).text(), 'one')
    hub.clock.advance(HOUR)
    assert.is((await hub.request('GET', url, { token: TOKENS.alice })).text(), 'one')
    // Blocked by its PEP 503-style name variant: the plugin's normalizeName applies.
    const block = await hub.request('POST', '/api/v1/admin/packages/block', { token: TOKENS.root, body: { registry: 'gated-local', name: 'ACME.lib', version: '1.0.0', reason: 'pulled' } })
    assert.equal([block.status, block.json().name], [200, 'acme-lib'])
    for (const token of [undefined, TOKENS.alice, TOKENS.root]) {
      const res = await hub.request('GET', url, { token })
      assert.is(res.status, 403)
      assert.match(res.json().error, /blocked on this registry: pulled/)
    }
    // Registries without rules still honour blocks (here: the plain local registry).
    assert.is((await put(hub, 'pkgs', TOKENS.alice, 'other', '2.0.0', 'other-2.0.0.tgz', 'two')).status, 201)
    assert.is((await hub.request('GET', '/proxy/pkgs/files/other/2.0.0/other-2.0.0.tgz')).status, 200)
    await hub.request('POST', '/api/v1/admin/packages/block', { token: TOKENS.root, body: { registry: 'pkgs', name: 'other', version: '2.0.0' } })
    assert.is((await hub.request('GET', '/proxy/pkgs/files/other/2.0.0/other-2.0.0.tgz')).status, 403)
    const log = (await hub.request('GET', '/api/v1/admin/audit-log?registry=gated-local&action=download', { token: TOKENS.root })).json() as any[]
    assert.equal(log.map((e) => [e.user_id, e.outcome, e.rule]).reverse(), [
      ['alice', 'deny', 'release_age_gate'], ['root', 'allow', null], ['alice', 'allow', null],
      ['anonymous', 'deny', 'blocklist'], ['alice', 'deny', 'blocklist'], ['root', 'deny', 'blocklist'],
    ])
    assert.is(log.at(-1).package, 'Acme_Lib')
  })

  Local.run()
}
