import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { testDialects } from '@batlehub/kernel/testing'
import { show } from './cargo.ts'
import { makeCrate, sha256, standardCrates } from './fixtures.ts'
import { startHub, type Hub } from './harness.ts'

const APP_MAIN = 'fn main() { println!("{} | {}", fixture_app_lib::version(), fixture_app_lib::util()); }\n'

for (const database of testDialects()) {
  const Proxy = suite<{ hub: Hub }>(`cargo proxy (${database})`)

  Proxy.before.each(async (t) => {
    t.hub = await startHub({ database, crates: 'standard', registries: [{ name: 'crates', type: 'cargo', upstreams: ['{upstream}'] }] })
  })
  Proxy.after.each(async (t) => {
    await t.hub.close()
  })

  Proxy('config.json points cargo at the hub; anonymous may read a proxy, so no auth-required', async ({ hub }) => {
    const res = await hub.kernel.request('GET', '/proxy/crates/registry/config.json')
    assert.is(res.status, 200)
    assert.equal(res.json(), {
      dl: `${hub.kernel.url}/proxy/crates/registry/dl/{crate}/{version}/download`,
      api: `${hub.kernel.url}/proxy/crates`,
    })
  })

  Proxy('index files: tiered lower-case paths, upstream lines as they are, ETag revalidation', async ({ hub }) => {
    const res = await hub.kernel.request('GET', '/proxy/crates/registry/fi/xt/fixture-util')
    assert.is(res.status, 200, res.text())
    const lines = res.text().trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines.map((l) => l.vers), ['0.1.0', '0.2.0', '0.3.0-beta.1'])
    assert.equal(lines.map((l) => l.cksum), standardCrates().slice(0, 3).map((c) => c.cksum))
    const etag = res.headers.etag
    assert.ok(etag)
    const again = await hub.kernel.request('GET', '/proxy/crates/registry/fi/xt/fixture-util', { headers: { 'if-none-match': etag! } })
    assert.is(again.status, 304)
    assert.is(hub.upstream!.server.paths.filter((p) => p === '/fi/xt/fixture-util').length, 1, 'one upstream fetch within the TTL')
    // Past the TTL the hub revalidates with the upstream's ETag and keeps serving the same file.
    hub.kernel.clock.advance(601_000)
    const later = await hub.kernel.request('GET', '/proxy/crates/registry/fi/xt/fixture-util', { headers: { 'if-none-match': etag! } })
    assert.is(later.status, 304)
    const fetches = hub.upstream!.server.requests.filter((r) => r.path === '/fi/xt/fixture-util')
    assert.is(fetches.length, 2)
    assert.ok(fetches[1]!.headers['if-none-match'], 'a conditional request upstream')
  })

  Proxy('unknown crates and malformed index paths are 404 in cargo\'s error format', async ({ hub }) => {
    for (const path of ['/registry/no/su/nosuchcrate', '/registry/fi/xt/Fixture-Util', '/registry/xx/xt/fixture-util', '/registry/fi/xt/..', '/registry/3/a/ab']) {
      const res = await hub.kernel.request('GET', `/proxy/crates${path}`)
      assert.is(res.status, 404, path)
      assert.ok(Array.isArray(res.json().errors), path)
      assert.type(res.json().errors[0].detail, 'string')
    }
  })

  Proxy('downloads are verified and cached once; the upstream config.json dl is honoured', async ({ hub }) => {
    const util = standardCrates()[1]!
    const url = '/proxy/crates/registry/dl/fixture-util/0.2.0/download'
    const first = await hub.kernel.request('GET', url)
    assert.is(first.status, 200)
    assert.is(sha256(first.body), util.cksum)
    const second = await hub.kernel.request('GET', url)
    assert.is(sha256(second.body), util.cksum)
    assert.equal(hub.upstream!.downloads, ['fixture-util@0.2.0'])
    assert.ok(hub.upstream!.server.paths.includes('/crates/fixture-util/fixture-util-0.2.0.crate'), 'fetched at the dl template of config.json')
    assert.is((await hub.kernel.request('GET', '/proxy/crates/registry/dl/fixture-util/9.9.9/download')).status, 404)
    assert.is((await hub.kernel.request('GET', '/proxy/crates/registry/dl/..%2F..%2Fetc/0.1.0/download')).status, 404)
  })

  Proxy('cargo builds through the proxy cold, then warm from a clean CARGO_HOME with the upstream gone', async ({ hub }) => {
    const { cargo } = hub
    cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
    const app = cargo.project('app', { deps: [{ name: 'fixture-app-lib', req: '1' }], main: APP_MAIN })
    const cold = await cargo.run(['run', '-q'], { cwd: app })
    assert.is(cold.code, 0, show(cold))
    assert.is(cold.stdout.trim(), 'fixture-app-lib 1.0.0 | fixture-util 0.2.0')
    assert.equal([...hub.upstream!.downloads].sort(), ['fixture-app-lib@1.0.0', 'fixture-util@0.2.0'])

    await hub.upstream!.close()
    cargo.freshHome()
    cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
    const warm = await cargo.run(['run', '-q'], { cwd: app })
    assert.is(warm.code, 0, show(warm))
    assert.is(warm.stdout.trim(), 'fixture-app-lib 1.0.0 | fixture-util 0.2.0')
    // cargo generate-lockfile resolves the same set from the cached index.
    const lock = await cargo.run(['generate-lockfile'], { cwd: app })
    assert.is(lock.code, 0, show(lock))
  })

  Proxy('cargo picks pre-releases only when asked; cargo fetch of an exact pre-release works', async ({ hub }) => {
    const { cargo } = hub
    cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
    const pre = cargo.project('pre', { deps: [{ name: 'fixture-util', req: '=0.3.0-beta.1' }] })
    const fetched = await cargo.run(['fetch'], { cwd: pre })
    assert.is(fetched.code, 0, show(fetched))
    assert.ok(hub.upstream!.downloads.includes('fixture-util@0.3.0-beta.1'))
    const stable = cargo.project('stable', { deps: [{ name: 'fixture-util', req: '>=0.1' }] })
    const lock = await cargo.run(['generate-lockfile'], { cwd: stable })
    assert.is(lock.code, 0, show(lock))
    assert.match(readFileSync(join(stable, 'Cargo.lock'), 'utf8'), /name = "fixture-util"\nversion = "0\.2\.0"/)
  })

  Proxy('listVersions and artifactsFor: index pubtime, web API created_at, verified artifact requests', async ({ hub }) => {
    hub.upstream!.add({ ...makeCrate({ name: 'fixture-util', version: '0.4.0' }), line: { ...makeCrate({ name: 'fixture-util', version: '0.4.0' }).line, pubtime: undefined } })
    const versions = await hub.hooks('crates').listVersions!('fixture-util', {})
    assert.equal(versions!.map((v) => v.version), ['0.4.0', '0.3.0-beta.1', '0.2.0', '0.1.0'])
    assert.is(versions![0]!.publishedAt, '2024-01-04T00:00:00.000Z', 'from the web API when the line has no pubtime')
    assert.is(versions![2]!.publishedAt, '2024-03-01T12:00:00Z', 'the index pubtime')
    assert.is(versions![1]!.prerelease, true)
    assert.is(await hub.hooks('crates').listVersions!('nosuchcrate', {}), null)
    const artifacts = await hub.hooks('crates').artifactsFor!('fixture-util', '0.2.0', {})
    assert.is(artifacts.length, 1)
    assert.equal(artifacts[0]!.expect, { sha256: standardCrates()[1]!.cksum })
    assert.is(artifacts[0]!.upstream.url, `${hub.upstream!.url}/crates/fixture-util/fixture-util-0.2.0.crate`)
  })

  Proxy('cargo search answers from the upstream in crates.io\'s shape', async ({ hub }) => {
    const res = await hub.kernel.request('GET', '/proxy/crates/api/v1/crates?q=fixture&per_page=5')
    assert.is(res.status, 200)
    assert.equal(res.json().crates.map((c: { name: string }) => c.name).sort(), ['fixture-app-lib', 'fixture-util'])
    const { cargo } = hub
    cargo.config(`[registries.hub]\nindex = "${hub.index('crates')}"\n`)
    const r = await cargo.run(['search', '--registry', 'hub', 'fixture-app'])
    assert.is(r.code, 0, show(r))
    assert.match(r.stdout, /fixture-app-lib = "1\.0\.0"/)
    const hits = await hub.hooks('crates').searchUpstream!('fixture', { limit: 10 })
    assert.ok(hits.some((h) => h.name === 'fixture-util' && h.description === 'fixture crate fixture-util'))
  })

  Proxy('publishing to a proxy registry is refused in cargo\'s format', async ({ hub }) => {
    const res = await hub.kernel.request('PUT', '/proxy/crates/api/v1/crates/new', { token: hub.kernel.adminToken, body: Buffer.alloc(16) })
    assert.is(res.status, 403)
    assert.match(res.json().errors[0].detail, /not in local or hybrid mode/)
  })

  Proxy.run()

  const tampered = Buffer.from(standardCrates()[1]!.bytes)
  tampered[tampered.length - 10]! ^= 0xff
  const Tamper = suite<{ hub: Hub }>(`cargo proxy: hostile upstream (${database})`)
  Tamper.before.each(async (t) => {
    t.hub = await startHub({
      database,
      crates: 'standard',
      upstreamOptions: { tamper: { 'fixture-util@0.2.0': tampered } },
      registries: [{ name: 'crates', type: 'cargo', upstreams: ['{upstream}'] }],
    })
  })
  Tamper.after.each(async (t) => {
    await t.hub.close()
  })

  Tamper('a .crate that does not match the index cksum is refused and nothing is stored', async ({ hub }) => {
    const url = '/proxy/crates/registry/dl/fixture-util/0.2.0/download'
    const first = await hub.kernel.request('GET', url).catch((err: Error) => ({ status: 0, body: Buffer.alloc(0), error: err }))
    // Either a 502 before any byte, or a response cut short: never the complete wrong bytes.
    assert.ok(first.status === 502 || first.status === 0 || sha256(first.body) !== standardCrates()[1]!.cksum)
    assert.ok(first.status !== 200 || first.body.length < standardCrates()[1]!.bytes.length, 'the wrong bytes are not served whole')
    await hub.kernel.request('GET', url).catch(() => undefined)
    assert.is(hub.upstream!.downloads.length, 2, 'nothing was cached: the second request went upstream again')
    assert.not.ok(storedFiles(hub).some((f) => f.includes(sha256(tampered))), 'no blob of the wrong bytes')

    const { cargo } = hub
    cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
    const app = cargo.project('app', { deps: [{ name: 'fixture-util', req: '=0.2.0' }] })
    const r = await cargo.run(['fetch'], { cwd: app })
    assert.is.not(r.code, 0, show(r))
  })

  Tamper.run()
}

/** Every file below the kernel's data directory (storage blobs are named by their sha256). */
function storedFiles(hub: Hub): string[] {
  const walk = (dir: string): string[] => existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)])
    : []
  return walk(hub.kernel.dataDir)
}
