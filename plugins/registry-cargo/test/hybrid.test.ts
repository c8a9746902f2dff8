import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { testDialects } from '@batlehub/kernel/testing'
import { show } from './cargo.ts'
import { crateBytes, standardCrates } from './fixtures.ts'
import { publishFrame, publishMetadata, startHub, type Hub } from './harness.ts'

const DEV = 'dev-token-0123456789abcdef'
const auth = [{ type: 'token', tokens: [{ value: DEV, role: 'user', user_id: 'dev' }] }]
const rbac = { user: ['releases:read', 'source:read', 'releases:write'], admin: ['*'] }

const indexVersions = async (hub: Hub, registry: string, path: string) => {
  const res = await hub.kernel.request('GET', `/proxy/${registry}/registry/${path}`, { headers: { authorization: DEV } })
  return res.status === 200 ? res.text().trim().split('\n').map((l) => JSON.parse(l).vers as string) : res.status
}

const publish = (hub: Hub, registry: string, name: string, version: string) =>
  hub.kernel.request('PUT', `/proxy/${registry}/api/v1/crates/new`, {
    headers: { authorization: DEV },
    body: publishFrame(publishMetadata(name, version), crateBytes({ name, version, lib: `pub fn version() -> &'static str { "local ${name} ${version}" }\n` })),
  })

for (const database of testDialects()) {
  const Hybrid = suite<{ hub: Hub }>(`cargo hybrid registry (${database})`)

  Hybrid.before.each(async (t) => {
    t.hub = await startHub({
      database,
      crates: 'standard',
      config: { auth },
      registries: [
        { name: 'hub', type: 'cargo', mode: 'hybrid', upstreams: ['{upstream}'], rbac },
        { name: 'merged', type: 'cargo', mode: 'hybrid', upstreams: ['{upstream}'], rbac, hybrid_merge_upstream: true },
      ],
    })
  })
  Hybrid.after.each(async (t) => {
    await t.hub.close()
  })

  Hybrid('serves local crates and proxies the rest; cargo builds a project using both through one registry', async ({ hub }) => {
    const { cargo } = hub
    // One hybrid registry is the crates.io replacement and the publish target at once.
    cargo.config(`[registries.hub]\nindex = "${hub.index('hub')}"\ncredential-provider = "cargo:token"\n\n[source.crates-io]\nreplace-with = "hub"\n`)
    const env = { CARGO_REGISTRIES_HUB_TOKEN: DEV }
    const lib = cargo.project('private-lib', {
      deps: [{ name: 'fixture-util', req: '0.2' }],
      lib: 'pub fn both() -> String { format!("private+{}", fixture_util::version()) }\n',
    })
    const pub = await cargo.run(['publish', '--registry', 'hub', '--no-verify', '--allow-dirty'], { cwd: lib, env })
    assert.is(pub.code, 0, show(pub))
    // The crates.io dependency is recorded with crates.io's index URL, as cargo sends it.
    const line = JSON.parse((await hub.kernel.request('GET', '/proxy/hub/registry/pr/iv/private-lib', { headers: { authorization: DEV } })).text())
    assert.is(line.deps[0].name, 'fixture-util')
    assert.is(line.deps[0].registry, 'https://github.com/rust-lang/crates.io-index')

    const app = cargo.project('app', {
      deps: [{ name: 'private-lib', req: '0.1', registry: 'hub' }, { name: 'fixture-app-lib', req: '1' }],
      main: 'fn main() { println!("{} | {}", private_lib::both(), fixture_app_lib::version()); }\n',
    })
    const run = await cargo.run(['run', '-q'], { cwd: app, env })
    assert.is(run.code, 0, show(run))
    assert.is(run.stdout.trim(), 'private+fixture-util 0.2.0 | fixture-app-lib 1.0.0')
  })

  Hybrid('a local name hides the upstream crate of that name (dependency-confusion guard)', async ({ hub }) => {
    assert.equal(await indexVersions(hub, 'hub', 'fi/xt/fixture-util'), ['0.1.0', '0.2.0', '0.3.0-beta.1'])
    const res = await publish(hub, 'hub', 'fixture-util', '0.2.5')
    assert.is(res.status, 200, res.text())
    assert.equal(await indexVersions(hub, 'hub', 'fi/xt/fixture-util'), ['0.2.5'])
    // Upstream versions of a local name are not downloadable either.
    const dl = await hub.kernel.request('GET', '/proxy/hub/registry/dl/fixture-util/0.2.0/download', { headers: { authorization: DEV } })
    assert.is(dl.status, 404)
    assert.ok(!hub.upstream!.downloads.includes('fixture-util@0.2.0'))
    const versions = await hub.hooks('hub').listVersions!('fixture-util', {})
    assert.equal(versions!.map((v) => v.version), ['0.2.5'])
    // Other names still come from the upstream.
    assert.equal(await indexVersions(hub, 'hub', 'fi/xt/fixture-app-lib'), ['1.0.0'])
  })

  Hybrid('with hybrid_merge_upstream, upstream versions the local crate lacks are appended', async ({ hub }) => {
    assert.is((await publish(hub, 'merged', 'fixture-util', '0.2.5')).status, 200)
    assert.equal(await indexVersions(hub, 'merged', 'fi/xt/fixture-util'), ['0.2.5', '0.1.0', '0.2.0', '0.3.0-beta.1'])
    const dl = await hub.kernel.request('GET', '/proxy/merged/registry/dl/fixture-util/0.2.0/download', { headers: { authorization: DEV } })
    assert.is(dl.status, 200)
    assert.ok(dl.body.equals(standardCrates()[1]!.bytes))
    const local = await hub.kernel.request('GET', '/proxy/merged/registry/dl/fixture-util/0.2.5/download', { headers: { authorization: DEV } })
    assert.is(local.status, 200)
    const versions = await hub.hooks('merged').listVersions!('fixture-util', {})
    assert.equal(versions!.map((v) => v.version), ['0.3.0-beta.1', '0.2.5', '0.2.0', '0.1.0'])
    assert.equal(await hub.hooks('merged').artifactsFor!('fixture-util', '0.2.5', {}), [])
    assert.is((await hub.hooks('merged').artifactsFor!('fixture-util', '0.2.0', {})).length, 1)
  })

  Hybrid('search: local crates first, then upstream ones with other names', async ({ hub }) => {
    assert.is((await publish(hub, 'hub', 'fixture-local', '0.1.0')).status, 200)
    assert.is((await publish(hub, 'hub', 'fixture-util', '9.0.0')).status, 200)
    const res = await hub.kernel.request('GET', '/proxy/hub/api/v1/crates?q=fixture&per_page=10', { headers: { authorization: DEV } })
    assert.is(res.status, 200)
    const crates = res.json().crates as Array<{ name: string; max_version: string }>
    assert.equal(crates.slice(0, 2).map((c) => c.name).sort(), ['fixture-local', 'fixture-util'])
    assert.is(crates.find((c) => c.name === 'fixture-util')!.max_version, '9.0.0', 'the local crate, not the upstream one')
    assert.equal(crates.map((c) => c.name).filter((n) => n === 'fixture-util').length, 1)
    assert.ok(crates.some((c) => c.name === 'fixture-app-lib'))
  })

  Hybrid.run()
}
