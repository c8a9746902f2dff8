import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { testDialects } from '@batlehub/kernel/testing'
import { startHub, upload, uploadForm, get, type Hub } from './support/harness.ts'
import { buildWheel } from './support/dists.ts'

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json'
const sha256 = (b: ArrayBuffer) => createHash('sha256').update(Buffer.from(b)).digest('hex')

async function admin(hub: Hub, method: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${hub.kernel.url}/api/v1/admin/registries/pypi${path}`, {
    method,
    headers: { authorization: `Bearer ${hub.kernel.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

for (const database of testDialects()) {
  const Hybrid = suite<{ hub: Hub }>(`pypi hybrid (${database})`)
  Hybrid.after.each(async (t) => {
    await t.hub.close()
  })

  Hybrid('a local package the caller may not see still hides the upstream one', async (t) => {
    const hub = t.hub = await startHub({ mode: 'hybrid', database })
    const wheel = buildWheel({ name: 'demo-lib', version: '0.0.1' })
    assert.is((await upload(hub, uploadForm(wheel, { name: 'demo-lib', version: '0.0.1' }))).status, 200)
    assert.is((await admin(hub, 'PUT', '/packages/demo-lib/visibility', { visibility: 'team' })).status, 200)
    const asUser = await get(hub, '/simple/demo-lib/', { accept: JSON_TYPE, token: hub.kernel.userToken })
    assert.is(asUser.status, 404)
    const asAdmin = await (await get(hub, '/simple/demo-lib/', { accept: JSON_TYPE, token: hub.kernel.adminToken })).json() as any
    assert.equal(asAdmin.files.map((f: { filename: string }) => f.filename), [wheel.filename])
    assert.is((await get(hub, `/files/demo-lib/${hub.fixture!.file('demo_lib-1.0.0-py3-none-any.whl').filename}`, { token: hub.kernel.userToken })).status, 404)
    assert.is((await get(hub, '/pypi/demo-lib/json', { token: hub.kernel.userToken })).status, 404)
    // Hidden local names stay out of the root index (upstream names are listed as they are).
    const secret = buildWheel({ name: 'secret-lib', version: '1.0' })
    assert.is((await upload(hub, uploadForm(secret, { name: 'secret-lib', version: '1.0' }))).status, 200)
    assert.is((await admin(hub, 'PUT', '/packages/secret-lib/visibility', { visibility: 'team' })).status, 200)
    const root = await (await get(hub, '/simple/', { token: hub.kernel.userToken })).text()
    assert.not.match(root, /secret-lib/)
    assert.match(root, /href="tiny-dep\/"/)
    assert.match(await (await get(hub, '/simple/', { token: hub.kernel.adminToken })).text(), /href="secret-lib\/"/)
    assert.not.ok(hub.fixture!.index.paths.some((p) => p.includes('demo-lib')), hub.fixture!.index.paths.join('\n'))
  })

  Hybrid('hybrid_merge_upstream adds upstream releases the local package lacks, never into a local release', async (t) => {
    const hub = t.hub = await startHub({ mode: 'hybrid', database, registry: { hybrid_merge_upstream: true } })
    const local = buildWheel({ name: 'demo-lib', version: '1.0', code: '__version__ = "local"\n' })
    assert.is((await upload(hub, uploadForm(local, { name: 'demo-lib', version: '1.0' }))).status, 200)
    const page = await (await get(hub, '/simple/demo-lib/', { accept: JSON_TYPE, token: hub.kernel.userToken })).json() as any
    const names = page.files.map((f: { filename: string }) => f.filename)
    assert.ok(names.includes(local.filename))
    assert.ok(names.includes('demo_lib-1.1.0-py3-none-any.whl'))
    // Upstream 1.0.0 is the same release as local 1.0: left out.
    assert.not.ok(names.includes('demo_lib-1.0.0-py3-none-any.whl'), names.join(' '))
    assert.not.ok(names.includes('demo_lib-1.0.0.tar.gz'))
    for (const f of page.files) assert.is(f.url, `${hub.base}/files/demo-lib/${f.filename}`)
    const up = await get(hub, '/files/demo-lib/demo_lib-1.1.0-py3-none-any.whl', { token: hub.kernel.userToken })
    assert.is(up.status, 200)
    assert.is(sha256(await up.arrayBuffer()), hub.fixture!.file('demo_lib-1.1.0-py3-none-any.whl').sha256)
    assert.is((await get(hub, '/files/demo-lib/demo_lib-1.0.0-py3-none-any.whl', { token: hub.kernel.userToken })).status, 404)
    const mine = await get(hub, `/files/demo-lib/${local.filename}`, { token: hub.kernel.userToken })
    assert.is(sha256(await mine.arrayBuffer()), local.sha256)
    const versions = await hub.hooks().listVersions!('demo-lib', {})
    assert.equal(versions!.map((v) => v.version), ['2.0.0rc1', '1.1.0', '1.0', '0.9.0'])
  })

  Hybrid('yanked local releases are marked in every form', async (t) => {
    const hub = t.hub = await startHub({ mode: 'hybrid', database })
    const wheel = buildWheel({ name: 'yank-me', version: '1.0' })
    // Without the trailing slash too.
    const res = await fetch(`${hub.base}/legacy`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`__token__:${hub.kernel.adminToken}`).toString('base64')}` }, body: uploadForm(wheel, { name: 'yank-me', version: '1.0' }) })
    assert.is(res.status, 200, await res.text())
    const yank = await admin(hub, 'POST', '/bulk-yank', { packages: [{ name: 'yank-me', version: '1.0' }], reason: 'CVE-2024-0001' })
    assert.is(yank.status, 200, await yank.text())
    const json = await (await get(hub, '/simple/yank-me/', { accept: JSON_TYPE, token: hub.kernel.userToken })).json() as any
    assert.is(json.files[0].yanked, 'CVE-2024-0001')
    const html = await (await get(hub, '/simple/yank-me/', { token: hub.kernel.userToken })).text()
    assert.match(html, /data-yanked="CVE-2024-0001"/)
    const api = await (await get(hub, '/pypi/yank-me/1.0/json', { token: hub.kernel.userToken })).json() as any
    assert.is(api.info.yanked, true)
    assert.is(api.urls[0].yanked_reason, 'CVE-2024-0001')
  })

  Hybrid.run()
}
