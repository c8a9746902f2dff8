import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineRegistryPlugin, NotFoundError, reply } from '@batlehub/sdk'
import { createTestKernel, testDialects, type KernelTestHandle } from '../src/testing/index.ts'

const ADMIN = 'explore-local-admin-token-0123'
const ALICE = 'explore-local-alice-token-0123'
const BOB = 'explore-local-bob-token-01234'

/** A minimal hosting protocol over the real local store: PUT publishes, GET downloads. */
const hosting = defineRegistryPlugin({
  id: 'hosting',
  capabilities: { proxy: false, publish: true, search: false, yank: true },
  setup(ctx) {
    ctx.routes.put('/:name/:version', async (req) => {
      const { name, version } = req.params as { name: string; version: string }
      const result = await ctx.packages.publish({ name, version, identity: req.identity, files: [{ filename: `${name}-${version}.tgz`, body: req.body.stream() }] })
      return reply.json({ name: result.name, version: result.version }, 201)
    })
    ctx.routes.get('/:name/:version/file', async (req) => {
      const { name, version } = req.params as { name: string; version: string }
      const served = await ctx.packages.serveFile(name, version, `${name}-${version}.tgz`, req)
      if (!served) throw new NotFoundError(`no ${name}@${version}`)
      return served
    })
    return { normalizeName: (n: string) => n.toLowerCase() }
  },
})

for (const dialect of testDialects()) {
  const Local = suite<{ hub: KernelTestHandle }>(`explore over the local store (${dialect})`)
  Local.before.each(async (t) => {
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [hosting],
      config: {
        auth: [{ type: 'token', tokens: [
          { value: ADMIN, role: 'admin', user_id: 'root' },
          { value: ALICE, role: 'user', user_id: 'alice', groups: ['oidc:web team'] },
          { value: BOB, role: 'user', user_id: 'bob' },
        ] }],
        registries: [{ name: 'corp', type: 'hosting', mode: 'local', rbac: { user: ['releases:read', 'source:read', 'releases:write'], admin: ['*'] } }],
      },
    })
  })
  Local.after.each(async (t) => {
    await t.hub.close()
  })

  Local('a publish shows at once (cache invalidated); downloads count under the hosted package', async ({ hub }) => {
    const list = async () => (await hub.request('GET', '/api/v1/explore/packages?registry=corp', { token: BOB })).json()
    assert.equal((await list()).items, [])
    const pub = await hub.request('PUT', '/proxy/corp/Web-Kit/1.0.0', { token: ALICE, body: 'tarball bytes' })
    assert.is(pub.status, 201, pub.text())
    // Cached empty result above, yet the publish event cleared it.
    const after = await list()
    assert.equal(after.items.map((i: any) => [i.name, i.source, i.version_count, i.total_downloads]), [['Web-Kit', 'local', 1, 0]])
    await hub.request('PUT', '/proxy/corp/Web-Kit/1.1.0-beta.1', { token: ALICE, body: 'beta bytes' })
    for (let i = 0; i < 3; i++) {
      const dl = await hub.request('GET', '/proxy/corp/Web-Kit/1.0.0/file', { token: BOB })
      assert.is(dl.status, 200, dl.text())
    }
    await hub.kernel.accounting.flush()
    await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: {} })
    const counted = await list()
    // One row (the download rows are under the normalised name "web-kit"), still "local".
    assert.equal(counted.items.map((i: any) => [i.name, i.source, i.version_count, i.total_downloads]), [['Web-Kit', 'local', 2, 3]])
    assert.ok(counted.items[0].last_accessed)
    const detail = (await hub.request('GET', '/api/v1/explore/packages/corp/web-kit', { token: BOB })).json()
    assert.is(detail.name, 'Web-Kit')
    assert.equal(detail.versions.map((v: any) => [v.version, v.source, v.download_count, v.is_prerelease]), [
      ['1.1.0-beta.1', 'local', 0, true],
      ['1.0.0', 'local', 3, false],
    ])
    assert.ok(detail.versions[1].published_at)
    const stats = (await hub.request('GET', '/api/v1/admin/dashboard', { token: ADMIN })).json()
    assert.equal([stats.registries[0].packages, stats.registries[0].local_packages], [1, 1])
  })

  Local('a yank shows in the firewall column; team visibility follows the namespace claim', async ({ hub }) => {
    await hub.request('PUT', '/proxy/corp/web-utils/1.0.0', { token: ALICE, body: 'a' })
    await hub.request('PUT', '/proxy/corp/web-utils/1.1.0', { token: ALICE, body: 'b' })
    await hub.request('GET', '/api/v1/explore/packages/corp/web-utils', { token: BOB })
    const store = hub.kernel.localStores.get('corp')!
    await store.yank('web-utils', '1.1.0', { identity: { subject: 'token:root', userId: 'root', role: 'admin', groups: [], provider: 'token' }, reason: 'bad build' })
    const yanked = (await hub.request('GET', '/api/v1/explore/packages/corp/web-utils', { token: BOB })).json()
    assert.equal(yanked.versions[0].firewall, { status: 'yanked', reason: 'bad build' })
    // Team visibility: the namespace "web-" belongs to "oidc:webteam" (spaces are not significant).
    const claim = await hub.request('POST', '/api/v1/admin/registries/corp/namespaces', { token: ADMIN, body: { prefix: 'web-', group_id: 'oidc:webteam', claimed_by: 'root' } })
    assert.ok(claim.status < 300, claim.text())
    const vis = await hub.request('PUT', '/api/v1/admin/registries/corp/packages/web-utils/visibility', { token: ADMIN, body: { visibility: 'team' } })
    assert.is(vis.status, 200, vis.text())
    await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: {} })
    const names = async (token: string) => (await hub.request('GET', '/api/v1/explore/packages?registry=corp', { token })).json().items.map((i: any) => i.name)
    assert.equal(await names(BOB), [])
    assert.equal(await names(ALICE), ['web-utils'])
    assert.equal(await names(ADMIN), ['web-utils'])
    assert.is((await hub.request('GET', '/api/v1/explore/packages/corp/web-utils', { token: BOB })).status, 404)
    assert.is((await hub.request('GET', '/api/v1/explore/packages/corp/web-utils', { token: ALICE })).status, 200)
  })

  Local.run()
}
