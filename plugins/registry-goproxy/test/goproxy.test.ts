import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import goproxy from '../src/index.ts'
import { goCommand, moduleZip, startGoUpstream, type GoUpstream } from './support/fixture.ts'

const dialect = (process.env.BATLEHUB_TEST_PG_URL ? ['sqlite', 'postgresql'] : ['sqlite']) as Array<'sqlite' | 'postgresql'>
// One build cache for every run of this file: the module cache (what the hub serves) stays fresh per run.
const GOCACHE = join(tmpdir(), 'batlehub-test-gocache')
process.env.BATLEHUB_TEST_GOCACHE = GOCACHE

function project(home: string, requires: string, imports: string, body: string): string {
  const dir = join(home, `app-${Math.random().toString(36).slice(2)}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'go.mod'), `module example.com/app\n\ngo 1.18\n\n${requires}\n`)
  writeFileSync(join(dir, 'main.go'), `package main\n\nimport (\n\t"fmt"\n\n${imports}\n)\n\nfunc main() { fmt.Println(${body}) }\n`)
  return dir
}

interface Ctx { hub: TestKernel; upstream: GoUpstream; home: string }

/** A module zip with a `../../` entry: zip writers refuse to make one, so the name is patched in. */
async function zipSlip(): Promise<Buffer> {
  const zip = await moduleZip('example.com/private', 'v1.0.0', { 'go.mod': 'module example.com/private\n', 'XX/XX/evil.sh': 'echo pwned' })
  return Buffer.from(zip.toString('latin1').replaceAll('XX/XX/evil.sh', '../../evil.sh'), 'latin1')
}

for (const db of dialect) {
  const Proxy = suite<Ctx>(`goproxy proxy mode with the go command (${db})`)
  Proxy.before.each(async (t) => {
    t.upstream = await startGoUpstream()
    t.hub = await createTestKernel({
      database: db,
      plugins: [goproxy],
      config: { registries: [{ name: 'go', type: 'goproxy', upstreams: [t.upstream.url], rbac: { anonymous: ['releases:read', 'source:read'] } }] },
    })
    t.home = mkdtempSync(join(tmpdir(), 'bh-gohome-'))
  })
  Proxy.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
    rmSync(t.home, { recursive: true, force: true })
  })

  Proxy('go builds through the hub cold, then warm with the upstream stopped', async ({ hub, upstream, home }) => {
    const proxy = `${hub.url}/proxy/go`
    const app = project(home, 'require example.com/lib v1.1.0', '\t"example.com/lib"', 'lib.Value()')
    const cold = await goCommand(['run', '.'], { cwd: app, home: join(home, 'cold'), proxy })
    assert.is(cold.code, 0, cold.stderr)
    assert.is(cold.stdout.trim(), '42')
    const zipFetches = upstream.paths.filter((p) => p.endsWith('.zip'))
    assert.equal(zipFetches.sort(), ['/example.com/dep/@v/v1.0.0.zip', '/example.com/lib/@v/v1.1.0.zip'])
    await upstream.close()
    const warm = await goCommand(['run', '.'], { cwd: app, home: join(home, 'warm'), proxy })
    assert.is(warm.code, 0, warm.stderr)
    assert.is(warm.stdout.trim(), '42')
  })

  Proxy('lists, @latest and case-escaped module paths', async ({ hub, home }) => {
    const proxy = `${hub.url}/proxy/go`
    const app = project(home, 'require example.com/BigCo/tool v0.3.0', '\t"example.com/BigCo/tool"', 'tool.Name()')
    const run = await goCommand(['run', '.'], { cwd: app, home: join(home, 'h'), proxy })
    assert.is(run.code, 0, run.stderr)
    assert.is(run.stdout.trim(), 'tool')
    const versions = await goCommand(['list', '-m', '-versions', 'example.com/lib'], { cwd: app, home: join(home, 'h'), proxy })
    assert.is(versions.stdout.trim(), 'example.com/lib v1.0.0 v1.1.0 v1.2.0-beta.1')
    const latest = await hub.request('GET', '/proxy/go/example.com/lib/@latest')
    assert.equal(latest.json(), { Version: 'v1.1.0', Time: '2024-02-01T00:00:00Z' })
    const missing = await hub.request('GET', '/proxy/go/example.com/nope/@v/list')
    assert.is(missing.status, 404)
    assert.match(missing.text(), /not found/)
    const bad = await hub.request('GET', '/proxy/go/example.com/lib/@v/1.0.0.zip')
    assert.is(bad.status, 400)
    assert.match(bad.text(), /invalid version/)
    const sumdb = await hub.request('GET', '/proxy/go/sumdb/sum.golang.org/supported')
    assert.is(sumdb.status, 404)
  })

  Proxy.run()

  const Local = suite<Ctx & { upstreamUrl: string }>(`goproxy local and hybrid modes (${db})`)
  Local.before.each(async (t) => {
    t.upstream = await startGoUpstream()
    t.hub = await createTestKernel({
      database: db,
      plugins: [goproxy],
      config: {
        registries: [
          { name: 'private', type: 'goproxy', mode: 'local', rbac: { anonymous: ['releases:read', 'source:read'], admin: ['*'] } },
          { name: 'secret', type: 'goproxy', mode: 'local', rbac: { user: ['releases:read', 'source:read'], admin: ['*'] } },
          { name: 'hybrid', type: 'goproxy', mode: 'hybrid', upstreams: [t.upstream.url], rbac: { anonymous: ['releases:read', 'source:read'], admin: ['*'] } },
          { name: 'mirror', type: 'goproxy', upstreams: [t.upstream.url] },
          { name: 'tiny', type: 'goproxy', mode: 'local', max_zip_bytes: 1024 },
        ],
      },
    })
    t.home = mkdtempSync(join(tmpdir(), 'bh-gohome-'))
  })
  Local.after.each(async (t) => {
    await t.hub.close()
    await t.upstream.close()
    rmSync(t.home, { recursive: true, force: true })
  })

  const upload = (hub: TestKernel, registry: string, module: string, version: string, zip: Buffer, token = hub.adminToken) =>
    hub.request('PUT', `/proxy/${registry}/${module.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)}/@v/${version}.zip`, { token, body: zip, headers: { 'content-type': 'application/zip' } })

  const privateFiles = (v: string) => ({
    'go.mod': 'module example.com/private\n\ngo 1.18\n',
    'private.go': `package private\n\n// Version is the published version.\nfunc Version() string { return "${v}" }\n`,
  })

  Local('a published module installs with the go command from a clean cache', async ({ hub, home }) => {
    const res = await upload(hub, 'private', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')))
    assert.is(res.status, 201, res.text())
    assert.is((await upload(hub, 'private', 'example.com/private', 'v1.1.0', await moduleZip('example.com/private', 'v1.1.0', privateFiles('v1.1.0')))).status, 201)
    const dup = await upload(hub, 'private', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')))
    assert.is(dup.status, 409)
    const list = await hub.request('GET', '/proxy/private/example.com/private/@v/list')
    assert.is(list.text(), 'v1.0.0\nv1.1.0\n')
    const info = await hub.request('GET', '/proxy/private/example.com/private/@v/v1.0.0.info')
    assert.is(info.json().Version, 'v1.0.0')
    assert.match(info.json().Time, /^\d{4}-\d\d-\d\dT/)
    const app = project(home, 'require example.com/private v1.1.0', '\t"example.com/private"', 'private.Version()')
    const proxy = `${hub.url}/proxy/private`
    const run = await goCommand(['run', '.'], { cwd: app, home: join(home, 'h1'), proxy })
    assert.is(run.code, 0, run.stderr)
    assert.is(run.stdout.trim(), 'v1.1.0')
    const latest = await goCommand(['get', 'example.com/private@latest'], { cwd: app, home: join(home, 'h1'), proxy })
    assert.is(latest.code, 0, latest.stderr)
  })

  Local('a registry without anonymous read refuses the go command with 401 and serves tokens', async ({ hub, home }) => {
    assert.is((await upload(hub, 'secret', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')))).status, 201)
    assert.is((await hub.request('GET', '/proxy/secret/example.com/private/@v/list')).status, 401)
    assert.is((await hub.request('GET', '/proxy/secret/example.com/private/@v/list', { token: hub.userToken })).text(), 'v1.0.0\n')
    const zip = await hub.request('GET', '/proxy/secret/example.com/private/@v/v1.0.0.zip', { headers: { authorization: `Basic ${Buffer.from(`ci:${hub.userToken}`).toString('base64')}` } })
    assert.is(zip.status, 200)
    const app = project(home, 'require example.com/private v1.0.0', '\t"example.com/private"', 'private.Version()')
    // The go command sends .netrc credentials only over HTTPS (as a hub behind TLS is deployed); over
    // plain HTTP it asks anonymously and reports the 401.
    const denied = await goCommand(['mod', 'download', 'example.com/private@v1.0.0'], { cwd: app, home: join(home, 'anon'), proxy: `${hub.url}/proxy/secret` })
    assert.is.not(denied.code, 0)
    assert.match(denied.stderr, /401 Unauthorized/)
  })

  Local('hybrid serves local modules and the upstream together; a local name is never mixed with the upstream', async ({ hub, upstream, home }) => {
    assert.is((await upload(hub, 'hybrid', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')))).status, 201)
    // A local module that shadows an upstream name: only the local version is visible.
    const shadow = await moduleZip('example.com/dep', 'v1.9.9-local', { 'go.mod': 'module example.com/dep\n\ngo 1.18\n', 'dep.go': 'package dep\n\nfunc Answer() int { return 7 }\n' })
    assert.is((await upload(hub, 'hybrid', 'example.com/dep', 'v1.9.9-local', shadow)).status, 201)
    const depList = await hub.request('GET', '/proxy/hybrid/example.com/dep/@v/list')
    assert.is(depList.text(), 'v1.9.9-local\n')
    assert.is((await hub.request('GET', '/proxy/hybrid/example.com/dep/@v/v1.0.0.zip')).status, 404)
    const app = project(home, 'require (\n\texample.com/private v1.0.0\n\texample.com/BigCo/tool v0.3.0\n)', '\t"example.com/BigCo/tool"\n\t"example.com/private"', 'private.Version(), tool.Name()')
    const run = await goCommand(['run', '.'], { cwd: app, home: join(home, 'h'), proxy: `${hub.url}/proxy/hybrid` })
    assert.is(run.code, 0, run.stderr)
    assert.is(run.stdout.trim(), 'v1.0.0 tool')
    assert.ok(upstream.paths.includes('/example.com/!big!co/tool/@v/v0.3.0.zip'))
    assert.not.ok(upstream.paths.some((p) => p.startsWith('/example.com/private/')), 'local modules are never asked upstream')
  })

  Local('bad uploads get a clear error and store nothing', async ({ hub }) => {
    const cases: Array<[string, string, Promise<Buffer>, number, RegExp]> = [
      ['entries outside the module prefix', 'v1.0.0', moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0'), 'example.com/other@v1.0.0/'), 400, /not under "example.com\/private@v1.0.0\/"/],
      ['zip slip', 'v1.0.0', zipSlip(), 400, /escapes the archive/],
      ['go.mod for another module', 'v1.0.0', moduleZip('example.com/private', 'v1.0.0', { 'go.mod': 'module example.com/evil\n' }), 400, /go.mod declares module "example.com\/evil"/],
      ['v2 without a /v2 path', 'v2.0.0', moduleZip('example.com/private', 'v2.0.0', privateFiles('v2.0.0')), 400, /needs a \/v2 module path suffix/],
      ['not a zip', 'v1.0.0', Promise.resolve(Buffer.from('definitely not a zip')), 400, /not a valid zip/],
      ['case-folding clash', 'v1.0.0', moduleZip('example.com/private', 'v1.0.0', { ...privateFiles('v1.0.0'), 'README': 'a', 'readme': 'b' }), 400, /differ only in case/],
    ]
    for (const [what, version, zip, status, pattern] of cases) {
      const res = await upload(hub, 'private', 'example.com/private', version, await zip)
      assert.is(res.status, status, `${what}: ${res.text()}`)
      assert.match(res.text(), pattern, what)
    }
    const big = await upload(hub, 'tiny', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', { ...privateFiles('v1.0.0'), 'big.txt': 'x'.repeat(4096) }))
    assert.is(big.status, 413, big.text())
    assert.is((await hub.request('GET', '/proxy/tiny/example.com/private/@v/list', { token: hub.adminToken })).status, 404)
    const badPath = await hub.request('PUT', '/proxy/private/Example.com/x/@v/v1.0.0.zip', { token: hub.adminToken, body: 'x' })
    assert.is(badPath.status, 400)
    const proxyWrite = await upload(hub, 'mirror', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')))
    assert.is(proxyWrite.status, 403)
    const userWrite = await upload(hub, 'private', 'example.com/private', 'v1.0.0', await moduleZip('example.com/private', 'v1.0.0', privateFiles('v1.0.0')), hub.userToken)
    assert.is(userWrite.status, 403)
    assert.is((await hub.request('GET', '/proxy/private/example.com/private/@v/list', { token: hub.userToken })).status, 404, 'nothing was published')
    const spool = join((hub as unknown as { dataDir: string }).dataDir, 'spool')
    assert.ok(!existsSync(spool) || readdirSync(spool).length === 0, 'no temporary upload left behind')
  })

  Local.run()
}
