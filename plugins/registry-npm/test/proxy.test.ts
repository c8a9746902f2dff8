/**
 * Proxy mode, protocol-exact: packument forms and URL forms, version documents, tarballs, the
 * tarball index, single-flight, digest verification, stale serving and npm-style errors.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import npm from '../src/index.ts'
import { startFixtureRegistry, standardPackages, type FixtureRegistry } from './support/fixtures.ts'

const ABBREV = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

const Proxy = suite<{ kernel: TestKernel; upstream: FixtureRegistry; base: string }>('npm proxy mode')

Proxy.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(standardPackages())
  t.kernel = await createTestKernel({
    plugins: [npm],
    config: { registries: [{ name: 'npm', type: 'npm', mode: 'proxy', upstreams: [t.upstream.url], max_artifact_bytes: 1024 * 1024 }] },
  })
  t.base = `${t.kernel.url}/proxy/npm`
})
Proxy.after.each(async (t) => {
  await t.kernel.close()
  await t.upstream.close()
})

Proxy('abbreviated and full packuments are negotiated, cached apart, and point tarballs at the hub', async ({ kernel, upstream, base }) => {
  const abbrev = await kernel.request('GET', '/proxy/npm/fixture-c', { headers: { accept: ABBREV } })
  assert.is(abbrev.status, 200)
  assert.is(abbrev.headers['content-type'], 'application/vnd.npm.install-v1+json')
  const a = abbrev.json()
  assert.is(a.time, undefined)
  assert.is(a.versions['1.0.0'].dist.tarball, `${base}/fixture-c/-/fixture-c-1.0.0.tgz`)
  assert.equal(a['dist-tags'], { latest: '1.1.0', next: '2.0.0-beta.1' })
  const full = await kernel.request('GET', '/proxy/npm/fixture-c')
  assert.match(full.headers['content-type']!, /^application\/json/)
  const f = full.json()
  assert.ok(f.time['1.1.0'])
  assert.ok(f.readme)
  assert.equal(f.versions['1.0.0'].dist.signatures, upstream.packages.get('fixture-c') && JSON.parse(upstream.packages.get('fixture-c')!.full!.toString()).versions['1.0.0'].dist.signatures)
  // One upstream request per form, each with its own Accept; repeats are served from the cache.
  await kernel.request('GET', '/proxy/npm/fixture-c', { headers: { accept: ABBREV } })
  await kernel.request('GET', '/proxy/npm/fixture-c')
  const packumentRequests = upstream.requests.filter((r) => r.path === '/fixture-c')
  assert.is(packumentRequests.length, 2)
  assert.match(packumentRequests[0]!.accept!, /install-v1/)
  assert.is(packumentRequests[1]!.accept, 'application/json')
  // ETag and 304.
  const again = await kernel.request('GET', '/proxy/npm/fixture-c', { headers: { accept: ABBREV, 'if-none-match': abbrev.headers.etag! } })
  assert.is(again.status, 304)
  assert.match(abbrev.headers.vary ?? '', /Accept/)
})

Proxy('scoped names in every URL form, version documents by version and dist-tag', async ({ kernel, base }) => {
  const forms = ['/proxy/npm/@fixture/scoped', '/proxy/npm/@fixture%2fscoped', '/proxy/npm/%40fixture%2fscoped', '/proxy/npm/@fixture%2Fscoped']
  const bodies = await Promise.all(forms.map((p) => kernel.request('GET', p, { headers: { accept: ABBREV } })))
  for (const b of bodies) assert.is(b.status, 200, b.text())
  assert.is(bodies[0]!.json().versions['0.1.0'].dist.tarball, `${base}/@fixture/scoped/-/scoped-0.1.0.tgz`)
  assert.ok(bodies.every((b) => b.text() === bodies[0]!.text()))
  const byVersion = await kernel.request('GET', '/proxy/npm/@fixture/scoped/0.1.0')
  assert.is(byVersion.json().version, '0.1.0')
  assert.is(byVersion.json().dist.tarball, `${base}/@fixture/scoped/-/scoped-0.1.0.tgz`)
  assert.is((await kernel.request('GET', '/proxy/npm/@fixture%2fscoped/rc')).json().version, '0.2.0-rc.0')
  assert.is((await kernel.request('GET', '/proxy/npm/fixture-c/next')).json().version, '2.0.0-beta.1')
  assert.is((await kernel.request('GET', '/proxy/npm/fixture-c/latest')).json().version, '1.1.0')
  const missing = await kernel.request('GET', '/proxy/npm/fixture-c/9.9.9')
  assert.is(missing.status, 404)
  assert.match(missing.json().error, /version not found: fixture-c@9.9.9/)
})

Proxy('tarballs: packument path and rebuilt encoded-scope path, verified, cached once', async ({ kernel, upstream }) => {
  const doc = (await kernel.request('GET', '/proxy/npm/@fixture/scoped', { headers: { accept: ABBREV } })).json()
  const dist = doc.versions['0.1.0'].dist
  const path = new URL(dist.tarball).pathname
  const first = await kernel.request('GET', path)
  assert.is(first.status, 200)
  assert.is(`sha512-${createHash('sha512').update(first.body).digest('base64')}`, dist.integrity)
  // pnpm and yarn berry build the URL themselves with the scope encoded.
  const rebuilt = await kernel.request('GET', '/proxy/npm/@fixture%2fscoped/-/scoped-0.1.0.tgz')
  assert.is(rebuilt.status, 200)
  assert.ok(rebuilt.body.equals(first.body))
  assert.is(upstream.count('/-/scoped-0.1.0.tgz'), 1)
  const head = await kernel.request('HEAD', path)
  assert.is(head.status, 200)
  assert.is(Number(head.headers['content-length']), first.body.length)
  const nope = await kernel.request('GET', '/proxy/npm/@fixture/scoped/-/scoped-7.7.7.tgz')
  assert.is(nope.status, 404)
  assert.match(nope.json().error, /not found/)
})

Proxy('a tarball asked for before its packument is found through the packument (one fetch), then the index', async ({ kernel, upstream }) => {
  const res = await kernel.request('GET', '/proxy/npm/fixture-b/-/fixture-b-1.0.0.tgz')
  assert.is(res.status, 200)
  assert.is(upstream.count(/^\/fixture-b$/), 1)
  await kernel.request('GET', '/proxy/npm/fixture-b/-/fixture-b-1.0.0.tgz')
  assert.is(upstream.count(/^\/fixture-b$/), 1)
  assert.is(upstream.count('/fixture-b/-/'), 1)
})

Proxy('single-flight: N parallel cold tarball requests make one upstream request', async ({ kernel, upstream }) => {
  await kernel.request('GET', '/proxy/npm/fixture-a', { headers: { accept: ABBREV } })
  const release = upstream.holdTarballs()
  const requests = Array.from({ length: 12 }, () => kernel.request('GET', '/proxy/npm/fixture-a/-/fixture-a-1.0.1.tgz'))
  await new Promise((r) => setTimeout(r, 300))
  release()
  const results = await Promise.all(requests)
  for (const r of results) assert.is(r.status, 200)
  assert.ok(results.every((r) => r.body.equals(results[0]!.body)))
  assert.is(upstream.count('/fixture-a/-/fixture-a-1.0.1.tgz'), 1)
})

Proxy('a tarball that does not match its declared integrity is refused and not stored', async ({ kernel, upstream }) => {
  await kernel.request('GET', '/proxy/npm/fixture-bin', { headers: { accept: ABBREV } })
  upstream.tamper('fixture-bin', 'fixture-bin-3.0.0.tgz', Buffer.from('evil bytes, not the published tarball'))
  // The client gets a 502, or a response cut short (the bytes were already streaming).
  const attempt = () => kernel.request('GET', '/proxy/npm/fixture-bin/-/fixture-bin-3.0.0.tgz').then((r) => r.status, () => 'truncated')
  const first = await attempt()
  assert.ok(first === 'truncated' || first === 502, `got ${first}`)
  // Nothing was stored: the next request goes upstream again.
  await attempt()
  assert.is(upstream.count('/fixture-bin/-/fixture-bin-3.0.0.tgz'), 2)
})

Proxy('upstream down: cached packuments are served stale and cached tarballs still install', async ({ kernel, upstream }) => {
  await kernel.request('GET', '/proxy/npm/fixture-c', { headers: { accept: ABBREV } })
  assert.is((await kernel.request('GET', '/proxy/npm/fixture-c/-/fixture-c-1.1.0.tgz')).status, 200)
  await upstream.close()
  kernel.clock.advance(3600_000)
  const stale = await kernel.request('GET', '/proxy/npm/fixture-c', { headers: { accept: ABBREV } })
  assert.is(stale.status, 200)
  assert.match(stale.headers.warning ?? '', /110/)
  assert.is((await kernel.request('GET', '/proxy/npm/fixture-c/-/fixture-c-1.1.0.tgz')).status, 200)
  const never = await kernel.request('GET', '/proxy/npm/never-fetched')
  assert.ok(never.status >= 500)
  assert.type(never.json().error, 'string')
})

Proxy('after a restart with the upstream down, cached tarballs are found through the stored packument', async ({ upstream }) => {
  const dir = mkdtempSync(join(tmpdir(), 'bh-npm-restart-'))
  const config = {
    server: { data_dir: dir },
    database: { type: 'sqlite', path: join(dir, 'hub.db') },
    storage: { type: 'filesystem', path: join(dir, 'storage') },
    registries: [{ name: 'npm', type: 'npm', mode: 'proxy', upstreams: [upstream.url] }],
  }
  try {
    const first = await createTestKernel({ plugins: [npm], config })
    try {
      assert.is((await first.request('GET', '/proxy/npm/@fixture/scoped', { headers: { accept: ABBREV } })).status, 200)
      assert.is((await first.request('GET', '/proxy/npm/@fixture/scoped/-/scoped-0.1.0.tgz')).status, 200)
    } finally {
      await first.close()
    }
    await upstream.close()
    const second = await createTestKernel({ plugins: [npm], config })
    try {
      const tgz = await second.request('GET', '/proxy/npm/@fixture/scoped/-/scoped-0.1.0.tgz')
      assert.is(tgz.status, 200)
      assert.is((await second.request('GET', '/proxy/npm/@fixture/scoped/-/scoped-9.9.9.tgz')).status, 404)
    } finally {
      await second.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Proxy('bad input gets npm-style errors', async ({ kernel }) => {
  for (const path of ['/proxy/npm/.hidden', '/proxy/npm/_x', '/proxy/npm/@scope%2f..', '/proxy/npm/a%20b', '/proxy/npm/@bad%2f_x/-/x-1.0.0.tgz']) {
    const res = await kernel.request('GET', path)
    assert.is(res.status, 400, path)
    assert.match(res.json().error, /Invalid package name/, path)
  }
  const absent = await kernel.request('GET', '/proxy/npm/no-such-package')
  assert.is(absent.status, 404)
  assert.match(absent.json().error, /no-such-package/)
  const publish = await kernel.request('PUT', '/proxy/npm/fixture-a', { token: kernel.adminToken, body: { name: 'fixture-a' } })
  assert.is(publish.status, 403)
  assert.match(publish.json().error, /not in local or hybrid mode/)
  const login = await kernel.request('PUT', '/proxy/npm/-/user/org.couchdb.user:alice', { body: { name: 'alice', password: 'x' } })
  assert.is(login.status, 501)
  assert.match(login.json().error, /_authToken/)
})

Proxy('ping, whoami, search, dist-tags', async ({ kernel }) => {
  assert.equal((await kernel.request('GET', '/proxy/npm/-/ping')).json(), {})
  assert.equal((await kernel.request('GET', '/proxy/npm/-/whoami', { token: kernel.userToken })).json(), { username: 'user' })
  assert.is((await kernel.request('GET', '/proxy/npm/-/whoami')).status, 401)
  const search = (await kernel.request('GET', '/proxy/npm/-/v1/search?text=fixture-&size=3')).json()
  assert.is(search.objects.length, 3)
  assert.ok(search.total >= 4)
  assert.equal((await kernel.request('GET', '/proxy/npm/-/package/@fixture%2fscoped/dist-tags')).json(), { latest: '0.1.0', rc: '0.2.0-rc.0' })
})

Proxy.run()
