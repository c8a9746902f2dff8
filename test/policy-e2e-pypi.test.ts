/**
 * The policy engine with the real pip, through a proxy registry: an age-gated newest release makes
 * `pip install` pick the previous one; a blocked release is refused with 403 on direct download and
 * pip resolves around it; a rate-limited pip gets 429 with Retry-After.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import pypi from '../plugins/registry-pypi/src/index.ts'
import { pypiFixture, type PypiFixture } from '../plugins/registry-pypi/test/support/upstream.ts'
import { importVersion, pipInstall, scratch } from '../plugins/registry-pypi/test/support/clients.ts'

const ADMIN = 'admin-token-e2e-pypi-0123456789'
const HOUR = 3_600_000

interface Ctx { hub: TestKernel; fixture: PypiFixture; tmp: ReturnType<typeof scratch>; base: string }

async function start(t: Ctx, registry: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<void> {
  t.tmp = scratch()
  t.fixture = await pypiFixture()
  t.hub = await createTestKernel({
    plugins: [pypi],
    config: {
      auth: [{ type: 'token', tokens: [{ value: ADMIN, role: 'admin', user_id: 'root' }] }],
      registries: [{ name: 'pypi', type: 'pypi', mode: 'proxy', upstreams: [t.fixture.index.url], ...registry }],
      ...extra,
    },
  })
  t.base = `${t.hub.url}/proxy/pypi`
}

async function stop(t: Ctx): Promise<void> {
  await t.hub.close()
  await t.fixture.close()
  t.tmp.cleanup()
}

const Pip = suite<Ctx>('policy e2e: pip')
Pip.before.each(async (t) => {
  await start(t, { rules: [{ kind: 'release_age_gate', min_age_secs: 2 * 3600, bypass_roles: ['admin'] }] })
  // demo-lib 1.1.0's wheel was uploaded 30 minutes ago (its sdist and 2.0.0rc1 even later).
  t.hub.clock.set(Date.parse(t.fixture.file('demo_lib-1.1.0-py3-none-any.whl').uploadTime) + 30 * 60_000)
})
Pip.after.each(stop)

Pip('an age-gated newest release makes pip pick the previous one; a blocked release is refused and avoided', async ({ hub, fixture, tmp, base }) => {
  const first = await pipInstall({ base, home: tmp.dir, target: join(tmp.dir, 'a'), packages: ['demo-lib'] })
  assert.is(first.code, 0, first.stderr + first.stdout)
  assert.equal(first.installed, ['demo_lib-1.0.0.dist-info', 'tiny_dep-1.2.0.dist-info'])
  assert.is(await importVersion(join(tmp.dir, 'a'), 'demo_lib', tmp.dir), '1.0.0')
  assert.not.ok(fixture.files.paths.some((p) => p.includes('demo_lib-1.1.0')), 'the gated release was never fetched')
  // Both page forms leave the gated release out; the admin (bypass) still sees it.
  const html = await hub.request('GET', '/proxy/pypi/simple/demo-lib/')
  assert.not.match(html.text(), /demo_lib-1\.1\.0/)
  assert.match(html.text(), /demo_lib-1\.0\.0-py3-none-any\.whl/)
  const json = await hub.request('GET', '/proxy/pypi/simple/demo-lib/', { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })
  assert.equal(json.json().versions, ['0.9.0', '1.0.0'])
  const admin = await hub.request('GET', '/proxy/pypi/simple/demo-lib/', { token: ADMIN, headers: { accept: 'application/vnd.pypi.simple.v1+json' } })
  assert.equal(admin.json().versions, ['0.9.0', '1.0.0', '1.1.0', '2.0.0rc1'])
  const gated = await hub.request('GET', '/proxy/pypi/files/demo-lib/demo_lib-1.1.0-py3-none-any.whl')
  assert.is(gated.status, 403)
  assert.match(gated.text(), /release_age_gate/)

  // Block the dependency's newest release: its file is refused to everyone, and pip takes the previous one.
  const block = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'pypi', name: 'Tiny_Dep', version: '1.2.0', reason: 'typosquat payload' } })
  assert.equal([block.status, block.json().name], [200, 'tiny-dep'])
  for (const token of [undefined, ADMIN]) {
    const res = await hub.request('GET', '/proxy/pypi/files/tiny-dep/tiny_dep-1.2.0-py3-none-any.whl', { token })
    assert.is(res.status, 403)
    assert.match(res.text(), /version 1\.2\.0 of tiny-dep is blocked on this registry: typosquat payload/)
  }
  const second = await pipInstall({ base, home: tmp.dir, target: join(tmp.dir, 'b'), packages: ['demo-lib'] })
  assert.is(second.code, 0, second.stderr + second.stdout)
  assert.equal(second.installed, ['demo_lib-1.0.0.dist-info', 'tiny_dep-1.0.0.dist-info'])
  // Pinning the blocked release fails.
  const pinned = await pipInstall({ base, home: tmp.dir, target: join(tmp.dir, 'c'), packages: ['tiny-dep==1.2.0'] })
  assert.is.not(pinned.code, 0)
  assert.match(pinned.stderr, /No matching distribution found for tiny-dep==1\.2\.0/)
  // Time passes: 1.1.0 becomes old enough.
  hub.clock.advance(3 * HOUR)
  const later = await pipInstall({ base, home: tmp.dir, target: join(tmp.dir, 'd'), packages: ['demo-lib'] })
  assert.is(later.code, 0, later.stderr + later.stdout)
  assert.equal(later.installed, ['demo_lib-1.1.0.dist-info', 'tiny_dep-1.0.0.dist-info'])
})
Pip.run()

const Limited = suite<Ctx>('policy e2e: pip rate limited')
Limited.before.each(async (t) => {
  await start(t, {}, { rate_limit: { enabled: true, window_secs: 3600, limits: { anonymous: 1 } } })
  t.hub.clock.set(Math.floor(Date.now() / HOUR) * HOUR + 60_000)
})
Limited.after.each(stop)
Limited('pip over its budget gets 429 with Retry-After', async ({ hub, tmp, base }) => {
  const run = await pipInstall({ base, home: tmp.dir, target: join(tmp.dir, 'x'), packages: ['demo-lib'] })
  assert.is.not(run.code, 0)
  assert.match(run.stderr + run.stdout, /429/)
  const res = await hub.request('GET', '/proxy/pypi/simple/demo-lib/')
  assert.is(res.status, 429)
  assert.is(res.headers['retry-after'], '3540')
  assert.match(res.text(), /rate limit of 1 request per 3600s exceeded/)
})
Limited.run()
