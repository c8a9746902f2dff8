import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, testDialects, type KernelTestHandle } from '@batlehub/kernel/testing'
import maven from '../src/index.ts'
import { parseArtifactMetadata } from '../src/metadata.ts'
import { jar, pom, serveRepositories, sha1, standardRepository, type FixtureRepo, type RepositoryServer } from './support/fixture.ts'
import { basic } from './support/hub.ts'

for (const dialect of testDialects()) {
  const Hybrid = suite<{ hub: KernelTestHandle; fixture: FixtureRepo; upstream: RepositoryServer }>(`maven hybrid (${dialect})`)

  Hybrid.before.each(async (t) => {
    t.fixture = standardRepository()
    t.upstream = await serveRepositories([t.fixture.dir])
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [maven],
      config: {
        registries: [
          { name: 'merged', type: 'maven', mode: 'hybrid', upstreams: [t.upstream.url], hybrid_merge_upstream: true },
          { name: 'guarded', type: 'maven', mode: 'hybrid', upstreams: [t.upstream.url] },
        ],
      },
    })
  })
  Hybrid.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
    t.fixture.remove()
  })

  const req = (t: { hub: KernelTestHandle }, method: string, registry: string, path: string, body?: string | Buffer) =>
    t.hub.request(method, `/proxy/${registry}/maven2/${path}`, { headers: basic(t.hub.adminToken), ...(body !== undefined ? { body } : {}) })

  async function deployLocalLibA(t: { hub: KernelTestHandle }, registry: string): Promise<Buffer> {
    const bytes = jar('com.example', 'lib-a', '3.0.0', { 'LOCAL': 'built here\n' })
    assert.is((await req(t, 'PUT', registry, 'com/example/lib-a/3.0.0/lib-a-3.0.0.pom', pom({ groupId: 'com.example', artifactId: 'lib-a', version: '3.0.0' }))).status, 201)
    assert.is((await req(t, 'PUT', registry, 'com/example/lib-a/3.0.0/lib-a-3.0.0.jar', bytes)).status, 201)
    return bytes
  }

  Hybrid('serves local versions first and the upstream for the rest, with merged metadata', async (t) => {
    const local = await deployLocalLibA(t, 'merged')
    const metaRes = await req(t, 'GET', 'merged', 'com/example/lib-a/maven-metadata.xml')
    assert.is(metaRes.status, 200)
    const meta = parseArtifactMetadata(metaRes.body)
    assert.equal(meta.versions, ['1.0.0', '2.0.0-beta-1', '3.0.0'])
    assert.is(meta.latest, '3.0.0')
    assert.is(meta.release, '3.0.0')
    assert.match(meta.lastUpdated!, /^\d{14}$/)
    assert.ok(meta.lastUpdated! >= '20260102030405', 'lastUpdated is the newer of local and upstream')
    assert.is((await req(t, 'GET', 'merged', 'com/example/lib-a/maven-metadata.xml.sha1')).text(), sha1(metaRes.body))
    assert.equal((await req(t, 'GET', 'merged', 'com/example/lib-a/3.0.0/lib-a-3.0.0.jar')).body, local)
    const upstreamJar = t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar')
    assert.equal((await req(t, 'GET', 'merged', upstreamJar)).body, t.fixture.files.get(upstreamJar))
    assert.is((await req(t, 'GET', 'merged', `${upstreamJar}.sha1`)).text(), sha1(t.fixture.files.get(upstreamJar)!))
    // Artifacts with no local versions come from the upstream unchanged.
    const b = await req(t, 'GET', 'merged', 'com/example/lib-b/maven-metadata.xml')
    assert.equal(b.body, t.fixture.files.get('com/example/lib-b/maven-metadata.xml'))
    const versions = await t.hub.kernel.hosts.get('merged')!.hooks.listVersions!('com.example:lib-a', {})
    assert.equal(versions!.map((v) => v.version), ['3.0.0', '2.0.0-beta-1', '1.0.0'])
    assert.type(versions![0]!.publishedAt, 'string')
    // An upstream outage leaves the local half of merged metadata available.
    await t.upstream.close()
    t.hub.clock.advance(3600_000)
    assert.ok(parseArtifactMetadata((await req(t, 'GET', 'merged', 'com/example/lib-a/maven-metadata.xml')).body).versions.includes('3.0.0'))
  })

  Hybrid('dependency-confusion guard: an artifact that exists locally is served only from local', async (t) => {
    await deployLocalLibA(t, 'guarded')
    const meta = parseArtifactMetadata((await req(t, 'GET', 'guarded', 'com/example/lib-a/maven-metadata.xml')).body)
    assert.equal(meta.versions, ['3.0.0'])
    t.upstream.paths.length = 0
    const upstreamJar = t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar')
    assert.is((await req(t, 'GET', 'guarded', upstreamJar)).status, 404)
    assert.is((await req(t, 'GET', 'guarded', `${upstreamJar}.sha1`)).status, 404)
    assert.is((await req(t, 'GET', 'guarded', 'com/example/lib-a/9.0-SNAPSHOT/maven-metadata.xml')).status, 404)
    assert.equal(t.upstream.paths.filter((p) => p.includes('lib-a')), [])
    // Other artifacts still come from the upstream.
    const b = t.fixture.path('com.example', 'lib-b', '1.1.0', 'jar')
    assert.equal((await req(t, 'GET', 'guarded', b)).body, t.fixture.files.get(b))
    const versions = await t.hub.kernel.hosts.get('guarded')!.hooks.listVersions!('com.example:lib-a', {})
    assert.equal(versions!.map((v) => v.version), ['3.0.0'])
  })

  Hybrid.run()
}
