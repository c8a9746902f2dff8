import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { footprint, localHub, put, recordEvents, TOKENS } from './local-helpers.ts'

const { root, alice, bob, carol } = TOKENS
const ADMIN = '/api/v1/admin/registries'

for (const dialect of testDialects()) {
  const Admin = suite<{ hub: KernelTestHandle; events: ReturnType<typeof recordEvents> }>(`private registry admin API (${dialect})`)

  Admin.before.each(async (t) => {
    t.hub = await localHub(dialect)
    t.events = recordEvents(t.hub)
  })
  Admin.after.each(async (t) => {
    await t.hub.close()
  })

  Admin('owners: list, add, remove, with percent-encoded scoped names', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', alice, '@acme/widgets', '1.0.0', 'w.tgz', 'w')).status, 201)
    const path = `${ADMIN}/pkgs/packages/%40acme%2Fwidgets/owners`
    const list = await hub.request('GET', path, { token: root })
    assert.is(list.status, 200, list.text())
    assert.equal(list.json(), { owners: [{ principal_type: 'user', principal_id: 'alice', role: 'admin' }] })
    // A raw `@` works too.
    assert.is((await hub.request('GET', `${ADMIN}/pkgs/packages/@acme%2Fwidgets/owners`, { token: root })).status, 200)

    const added = await hub.request('POST', path, { token: root, body: { principal_type: 'group', principal_id: 'oidc:backend-team', role: 'maintainer' } })
    assert.is(added.status, 201, added.text())
    assert.equal(added.json().owners[1], { principal_type: 'group', principal_id: 'oidc:backend-team', role: 'maintainer' })
    assert.is((await put(hub, 'pkgs', carol, '@acme/widgets', '1.1.0', 'w.tgz', 'c')).status, 201, 'the group owner publishes')
    const defaulted = await hub.request('POST', path, { token: root, body: { principal_type: 'user', principal_id: 'bob' } })
    assert.is(defaulted.json().owners[2].role, 'maintainer')

    const removed = await hub.request('DELETE', `${path}/group/oidc%3Abackend-team`, { token: root })
    assert.is(removed.status, 200, removed.text())
    assert.equal(removed.json().owners.map((o: any) => o.principal_id), ['alice', 'bob'])
    assert.is((await put(hub, 'pkgs', carol, '@acme/widgets', '1.2.0', 'w.tgz', 'c')).status, 403)
    const last = await hub.request('DELETE', `${path}/user/alice`, { token: root })
    assert.is(last.status, 409)
    assert.match(last.json().error, /last admin owner/)
    assert.is((await hub.request('DELETE', `${path}/user/nobody`, { token: root })).status, 404)
    assert.is((await hub.request('DELETE', `${path}/robot/alice`, { token: root })).status, 400)

    const bad = await hub.request('POST', path, { token: root, body: { principal_type: 'robot', principal_id: 'x', role: 'maintainer' } })
    assert.is(bad.status, 400)
    assert.is((await hub.request('POST', path, { token: root, body: { principal_type: 'user', principal_id: 'x', role: 'owner' } })).status, 400)
    assert.is((await hub.request('GET', `${ADMIN}/pkgs/packages/missing/owners`, { token: root })).status, 404)
  })

  Admin('namespace claims: list, claim, duplicate 409, release with slashes verbatim', async ({ hub }) => {
    const path = `${ADMIN}/pkgs/namespaces`
    const first = await hub.request('POST', path, { token: root, body: { prefix: 'frontend', group_id: 'oidc:frontend-team', claimed_by: 'admin' } })
    assert.is(first.status, 201, first.text())
    assert.equal({ ...first.json(), created_at: undefined }, { prefix: 'frontend', group_id: 'oidc:frontend-team', claimed_by: 'admin', created_at: undefined })
    const nested = await hub.request('POST', path, { token: root, body: { prefix: 'team/a/b/', group_id: 'oidc:backend-team' } })
    assert.is(nested.json().claimed_by, 'root', 'claimed_by defaults to the caller')
    assert.is((await hub.request('POST', path, { token: root, body: { prefix: 'frontend', group_id: 'oidc:other' } })).status, 409)
    assert.is((await hub.request('POST', path, { token: root, body: { prefix: 'has space', group_id: 'g' } })).status, 400)
    assert.is((await hub.request('POST', path, { token: root, body: { prefix: '', group_id: 'g' } })).status, 400)
    assert.is((await hub.request('POST', path, { token: root, body: { prefix: 'x' } })).status, 400)
    const list = (await hub.request('GET', path, { token: root })).json()
    assert.equal(list.namespaces.map((c: any) => [c.prefix, c.group_id]), [['frontend', 'oidc:frontend-team'], ['team/a/b/', 'oidc:backend-team']])
    // Claims are per registry.
    assert.equal((await hub.request('GET', `${ADMIN}/hyb/namespaces`, { token: root })).json(), { namespaces: [] })

    assert.is((await hub.request('DELETE', `${path}/team/a/b`, { token: root })).status, 404, 'verbatim: the trailing slash matters')
    const released = await hub.request('DELETE', `${path}/team/a/b/`, { token: root })
    assert.is(released.status, 200, released.text())
    assert.equal(released.json(), { released: 'team/a/b/' })
    assert.is((await hub.request('DELETE', `${path}/frontend`, { token: root })).status, 200)
    assert.equal((await hub.request('GET', path, { token: root })).json(), { namespaces: [] })
  })

  Admin('visibility: read and set, percent-encoded names, bad values', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', bob, 'frontend/utils', '1.0.0', 'u.tgz', 'u')).status, 201)
    const path = `${ADMIN}/pkgs/packages/frontend%2Futils/visibility`
    assert.equal((await hub.request('GET', path, { token: root })).json(), { name: 'frontend/utils', visibility: 'public' })
    const set = await hub.request('PUT', path, { token: root, body: { visibility: 'internal' } })
    assert.is(set.status, 200, set.text())
    assert.equal(set.json(), { name: 'frontend/utils', visibility: 'internal' })
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/frontend%2Futils')).status, 404)
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/frontend%2Futils', { token: carol })).status, 200)
    assert.is((await hub.request('PUT', path, { token: root, body: { visibility: 'secret' } })).status, 400)
    assert.is((await hub.request('GET', `${ADMIN}/pkgs/packages/nothing/visibility`, { token: root })).status, 404)
    // The normalised form finds the package too.
    assert.is((await hub.request('GET', `${ADMIN}/pkgs/packages/FRONTEND%2FUTILS/visibility`, { token: root })).json().visibility, 'internal')
  })

  Admin('bulk yank, unyank and delete report each failure', async ({ hub, events }) => {
    for (const v of ['1.0.0', '1.0.1', '1.0.2']) assert.is((await put(hub, 'pkgs', alice, 'my-pkg', v, `my-pkg-${v}.tgz`, v)).status, 201)
    const items = [{ name: 'my-pkg', version: '1.0.0' }, { name: 'my-pkg', version: '1.0.1' }, { name: 'my-pkg', version: '9.9.9' }, { name: 'nope', version: '1.0.0' }]
    const yank = await hub.request('POST', `${ADMIN}/pkgs/bulk-yank`, { token: root, body: { packages: items, reason: 'CVE-2026-0001' } })
    assert.is(yank.status, 200, yank.text())
    const result = yank.json()
    assert.is(result.processed, 4)
    assert.is(result.succeeded, 2)
    assert.equal(result.failed.map((f: any) => [f.name, f.version]), [['my-pkg', '9.9.9'], ['nope', '1.0.0']])
    assert.match(result.failed[0].error, /no version 9\.9\.9/)
    let info = (await hub.request('GET', '/proxy/pkgs/packages/my-pkg')).json()
    assert.equal(info.versions.map((v: any) => [v.version, v.yanked, v.yankReason ?? null]), [['1.0.2', false, null], ['1.0.1', true, 'CVE-2026-0001'], ['1.0.0', true, 'CVE-2026-0001']])
    const unyank = (await hub.request('POST', `${ADMIN}/pkgs/bulk-unyank`, { token: root, body: { packages: items.slice(0, 1) } })).json()
    assert.equal(unyank, { processed: 1, succeeded: 1, failed: [] })
    const del = (await hub.request('POST', `${ADMIN}/pkgs/bulk-delete`, { token: root, body: { packages: items.slice(0, 2) } })).json()
    assert.equal(del, { processed: 2, succeeded: 2, failed: [] })
    info = (await hub.request('GET', '/proxy/pkgs/packages/my-pkg')).json()
    assert.equal(info.versions.map((v: any) => v.version), ['1.0.2'])
    assert.is((await footprint(hub)).refs, 1, 'deleted versions took their files along')
    assert.equal(events.filter((e) => e.event !== 'core:package.published').map((e) => [e.event, e.payload.version, e.payload.actor.userId]), [
      ['core:package.yanked', '1.0.0', 'root'],
      ['core:package.yanked', '1.0.1', 'root'],
      ['core:package.unyanked', '1.0.0', 'root'],
      ['core:package.deleted', '1.0.0', 'root'],
      ['core:package.deleted', '1.0.1', 'root'],
    ])
    assert.is((await hub.request('POST', `${ADMIN}/pkgs/bulk-delete`, { token: root, body: { packages: [{ name: 'x' }] } })).status, 400)
    assert.is((await hub.request('POST', `${ADMIN}/pkgs/bulk-delete`, { token: root, body: 'not json' })).status, 400)
  })

  Admin('admin role only; proxy registries and unknown registries answer clearly', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', alice, 'p', '1.0.0', 'p.tgz', 'p')).status, 201)
    const routes: Array<[string, string, Record<string, unknown>?]> = [
      ['GET', `${ADMIN}/pkgs/packages/p/owners`],
      ['POST', `${ADMIN}/pkgs/packages/p/owners`, { principal_type: 'user', principal_id: 'carol', role: 'admin' }],
      ['DELETE', `${ADMIN}/pkgs/packages/p/owners/user/alice`],
      ['GET', `${ADMIN}/pkgs/namespaces`],
      ['POST', `${ADMIN}/pkgs/namespaces`, { prefix: 'p', group_id: 'g' }],
      ['DELETE', `${ADMIN}/pkgs/namespaces/p`],
      ['GET', `${ADMIN}/pkgs/packages/p/visibility`],
      ['PUT', `${ADMIN}/pkgs/packages/p/visibility`, { visibility: 'team' }],
      ['POST', `${ADMIN}/pkgs/bulk-yank`, { packages: [{ name: 'p', version: '1.0.0' }] }],
      ['POST', `${ADMIN}/pkgs/bulk-unyank`, { packages: [] }],
      ['POST', `${ADMIN}/pkgs/bulk-delete`, { packages: [{ name: 'p', version: '1.0.0' }] }],
    ]
    for (const [method, path, body] of routes) {
      const asUser = await hub.request(method, path, { token: alice, ...(body ? { body } : {}) })
      assert.is(asUser.status, 403, `${method} ${path} as a user: ${asUser.text()}`)
      const anonymous = await hub.request(method, path, body ? { body } : {})
      assert.is(anonymous.status, 401, `${method} ${path} anonymously`)
      const proxy = await hub.request(method, path.replace('/pkgs/', '/mirror/'), { token: root, ...(body ? { body } : {}) })
      assert.is(proxy.status, 400, `${method} ${path} on a proxy registry: ${proxy.text()}`)
      assert.match(proxy.json().error, /proxy mode/)
      const unknown = await hub.request(method, path.replace('/pkgs/', '/nope/'), { token: root, ...(body ? { body } : {}) })
      assert.is(unknown.status, 404, `${method} ${path} on an unknown registry`)
    }
    // Nothing changed.
    assert.equal((await hub.request('GET', '/proxy/pkgs/owners/p')).json(), [{ principalType: 'user', principalId: 'alice', role: 'admin' }])
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/p')).json().versions[0].yanked, false)
  })

  Admin('the OpenAPI document declares every private-registry route', async ({ hub }) => {
    const paths = (await hub.request('GET', '/api/v1/openapi.json')).json().paths
    const base = '/api/v1/admin/registries/{registry}'
    assert.ok(paths[`${base}/packages/{name}/owners`].get)
    assert.ok(paths[`${base}/packages/{name}/owners`].post.requestBody)
    assert.ok(paths[`${base}/packages/{name}/owners/{principal_type}/{principal_id}`].delete)
    assert.ok(paths[`${base}/namespaces`].post)
    const release = paths[`${base}/namespaces/{prefix}`].delete
    assert.ok(release.parameters.some((p: any) => p.name === 'prefix' && p.allowReserved === true))
    assert.ok(paths[`${base}/packages/{name}/visibility`].put)
    for (const op of ['bulk-yank', 'bulk-unyank', 'bulk-delete']) assert.ok(paths[`${base}/${op}`].post.responses['200'])
  })

  Admin.run()
}
