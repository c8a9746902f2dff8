import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, testDialects, type KernelTestHandle } from '@batlehub/kernel/testing'
import maven from '../src/index.ts'
import { md5, serveRepositories, sha1, standardRepository, type FixtureRepo, type RepositoryServer } from './support/fixture.ts'
import { basic, rawRequest } from './support/hub.ts'

for (const dialect of testDialects()) {
  const Proxy = suite<{ hub: KernelTestHandle; fixture: FixtureRepo; upstream: RepositoryServer; token: string }>(`maven proxy (${dialect})`)

  Proxy.before.each(async (t) => {
    t.fixture = standardRepository()
    t.upstream = await serveRepositories([t.fixture.dir])
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [maven],
      config: { registries: [
        { name: 'central', type: 'maven', mode: 'proxy', upstreams: [t.upstream.url], search_url: `${t.upstream.url}/solrsearch` },
        { name: 'nosearch', type: 'maven', mode: 'proxy', upstreams: [t.upstream.url], search_url: '' },
      ] },
    })
    t.token = t.hub.userToken
  })
  Proxy.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
    t.fixture.remove()
  })

  const get = (t: { hub: KernelTestHandle; token: string }, path: string, method = 'GET') =>
    t.hub.request(method, `/proxy/central/maven2/${path}`, { headers: basic(t.token) })

  Proxy('serves metadata, POMs, JARs and checksums byte for byte, and fetches each artifact once', async (t) => {
    const jarPath = t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar')
    const pomPath = t.fixture.path('com.example', 'lib-a', '1.0.0', 'pom')
    const meta = await get(t, 'com/example/lib-a/maven-metadata.xml')
    assert.is(meta.status, 200)
    assert.equal(meta.body, t.fixture.files.get('com/example/lib-a/maven-metadata.xml'))
    assert.is((await get(t, 'com/example/lib-a/maven-metadata.xml.sha1')).text(), sha1(meta.body))
    for (let i = 0; i < 2; i++) {
      const jar = await get(t, jarPath)
      assert.is(jar.status, 200)
      assert.equal(jar.body, t.fixture.files.get(jarPath))
      assert.is(jar.headers['content-type'], 'application/java-archive')
    }
    const pom = await get(t, pomPath)
    assert.equal(pom.body, t.fixture.files.get(pomPath))
    assert.is((await get(t, `${jarPath}.sha1`)).text(), sha1(t.fixture.files.get(jarPath)!))
    assert.is((await get(t, `${jarPath}.md5`)).text(), md5(t.fixture.files.get(jarPath)!))
    assert.is(t.upstream.paths.filter((p) => p === `/${jarPath}`).length, 1)
    const head = await get(t, jarPath, 'HEAD')
    assert.is(head.status, 200)
    assert.is(head.headers['content-length'], String(t.fixture.files.get(jarPath)!.length))
  })

  Proxy('warm cache: everything fetched before is served with the upstream down', async (t) => {
    const jarPath = t.fixture.path('com.example', 'lib-b', '1.0.0', 'jar')
    const paths = ['com/example/lib-b/maven-metadata.xml', jarPath, `${jarPath}.sha1`, t.fixture.path('com.example', 'lib-b', '1.0.0', 'pom')]
    const before = []
    for (const p of paths) before.push((await get(t, p)).body)
    await t.upstream.close()
    // Fresh metadata TTL ran out: the stale copy is served while the upstream is unreachable.
    t.hub.clock.advance(3600_000)
    for (const [i, p] of paths.entries()) {
      const res = await get(t, p)
      assert.is(res.status, 200, `${p}: ${res.text()}`)
      assert.equal(res.body, before[i])
    }
    // A checksum never fetched from the upstream is computed from the cached bytes.
    assert.is((await get(t, `${jarPath}.sha256`)).status, 200)
    assert.is((await get(t, `${jarPath}.sha512`)).text().length, 128)
    const missing = await get(t, t.fixture.path('com.example', 'lib-b', '1.1.0', 'jar'))
    assert.ok(missing.status >= 500, String(missing.status))
  })

  Proxy('refuses to cache an artifact that does not match the upstream .sha1', async (t) => {
    const jarPath = t.fixture.path('com.example', 'lib-b', '1.1.0', 'jar')
    t.upstream.override(`${jarPath}.sha1`, '0000000000000000000000000000000000000000')
    const bad = await get(t, jarPath).catch((err: unknown) => ({ status: 0, body: Buffer.alloc(0), err }))
    // The client gets a 502 or a cut-off body, never a complete 200.
    assert.ok(bad.status !== 200 || !bad.body.equals(t.fixture.files.get(jarPath)!), 'an unverified artifact was served whole')
    // Nothing was kept: once the upstream checksum is right again (and its cache entry expired),
    // the artifact is fetched anew.
    t.upstream.override(`${jarPath}.sha1`, sha1(t.fixture.files.get(jarPath)!))
    t.hub.clock.advance(8 * 24 * 3600_000)
    const good = await get(t, jarPath)
    assert.is(good.status, 200)
    assert.equal(good.body, t.fixture.files.get(jarPath))
    assert.is(t.upstream.paths.filter((p) => p === `/${jarPath}`).length, 2)
  })

  Proxy('answers malformed paths with 400 and a readable reason', async (t) => {
    for (const path of ['com/example/../../x/1/x-1.jar', 'com/example/lib%2fa/1.0/lib-1.0.jar', 'com/ex%5cample/lib/1.0/lib-1.0.jar', 'com/example/lib/1.0/other-1.0.jar', 'lib/1.0/lib-1.0.jar']) {
      const res = await rawRequest(t.hub.url, 'GET', `/proxy/central/maven2/${path}`, { headers: basic(t.token) })
      assert.is(res.status, 400, path)
      assert.ok(res.statusText.length > 10 && res.statusText !== 'Bad Request', res.statusText)
      assert.is(res.body, `${res.statusText}\n`)
    }
    assert.equal(t.upstream.paths, [])
  })

  Proxy('lists versions from the upstream metadata and warms POM and JAR', async (t) => {
    const hooks = t.hub.kernel.hosts.get('central')!.hooks
    const versions = await hooks.listVersions!('com.example:lib-a', {})
    assert.equal(versions!.map((v) => [v.version, !!v.prerelease]), [['2.0.0-beta-1', true], ['1.0.0', false]])
    assert.is(versions![0]!.publishedAt, '2026-01-02T03:04:05.000Z')
    assert.is(versions![1]!.publishedAt, undefined)
    assert.is(await hooks.listVersions!('com.example:nope', {}), null)
    const arts = await hooks.artifactsFor!('com.example:lib-a', '1.0.0', {})
    assert.equal(arts.map((a) => [a.key, a.expect?.sha1]), [
      ['artifacts/com/example/lib-a/1.0.0/lib-a-1.0.0.pom', sha1(t.fixture.files.get('com/example/lib-a/1.0.0/lib-a-1.0.0.pom')!)],
      ['artifacts/com/example/lib-a/1.0.0/lib-a-1.0.0.jar', sha1(t.fixture.files.get('com/example/lib-a/1.0.0/lib-a-1.0.0.jar')!)],
    ])
  })

  Proxy('the admin API warms a version and invalidates an artifact\'s metadata', async (t) => {
    const admin = { token: t.hub.adminToken }
    const warm = await t.hub.request('POST', '/api/v1/admin/registries/central/warm', { ...admin, body: { package: 'com.example:lib-b@1.1.0' } })
    assert.is(warm.status, 200, warm.text())
    const jarPath = t.fixture.path('com.example', 'lib-b', '1.1.0', 'jar')
    assert.ok(t.upstream.paths.includes(`/${jarPath}`))
    t.upstream.paths.length = 0
    assert.equal((await get(t, jarPath)).body, t.fixture.files.get(jarPath))
    assert.equal(t.upstream.paths, [], 'a warmed artifact is served from the cache')
    const before = await get(t, 'com/example/lib-b/maven-metadata.xml')
    const changed = before.text().replace('<version>1.1.0</version>', '<version>1.1.0</version>\n      <version>1.2.0</version>')
    t.upstream.override('com/example/lib-b/maven-metadata.xml', changed)
    assert.equal((await get(t, 'com/example/lib-b/maven-metadata.xml')).body, before.body, 'fresh within its TTL')
    const inval = await t.hub.request('POST', '/api/v1/admin/packages/invalidate', { ...admin, body: { registry: 'central', name: 'com.example:lib-b' } })
    assert.is(inval.status, 200, inval.text())
    assert.is((await get(t, 'com/example/lib-b/maven-metadata.xml')).text(), changed)
  })

  Proxy('searches the Solr endpoint', async (t) => {
    t.upstream.override('solrsearch/select', JSON.stringify({ response: { docs: [{ id: 'com.example:lib-a', g: 'com.example', a: 'lib-a', latestVersion: '2.0.0-beta-1' }] } }))
    const hooks = t.hub.kernel.hosts.get('central')!.hooks
    assert.equal(await hooks.searchUpstream!('lib-a', { limit: 5 }), [{ name: 'com.example:lib-a', latestVersion: '2.0.0-beta-1' }])
    assert.ok(t.upstream.paths.includes('/solrsearch/select'))
    t.upstream.paths.length = 0
    assert.equal(await t.hub.kernel.hosts.get('nosearch')!.hooks.searchUpstream!('lib-a', { limit: 5 }), [])
    assert.equal(t.upstream.paths, [])
  })

  Proxy.run()
}
