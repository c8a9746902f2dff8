/**
 * Local and hybrid modes with the real npm CLI: publish, install from a clean cache, view,
 * dist-tag, deprecate, unpublish, whoami, search; pnpm and yarn install what npm published; hybrid
 * serves local and upstream packages and never mixes a local name with upstream versions.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import npm from '../src/index.ts'
import { startFixtureRegistry, standardPackages, type FixtureRegistry } from './support/fixtures.ts'
import { createSandbox, expectOk, type ClientSandbox } from './support/clients.ts'

function makePackage(sandbox: ClientSandbox, dir: string, manifest: Record<string, unknown>): string {
  const path = join(sandbox.home, '..', 'src', dir)
  mkdirSync(path, { recursive: true })
  writeFileSync(join(path, 'package.json'), JSON.stringify(manifest, null, 2))
  writeFileSync(join(path, 'index.js'), `module.exports = ${JSON.stringify(`${manifest.name}@${manifest.version}`)}\n`)
  writeFileSync(join(path, 'README.md'), `# ${manifest.name}\n\nA private package.\n`)
  return path
}

function installed(sandbox: ClientSandbox, name: string): string | undefined {
  const file = join(sandbox.project, 'node_modules', name, 'package.json')
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined
}

// ---------------------------------------------------------------------------------------------

const Local = suite<{ kernel: TestKernel; admin: ClientSandbox; reader: ClientSandbox }>('npm local mode with the real npm CLI')

Local.before.each(async (t) => {
  t.kernel = await createTestKernel({ plugins: [npm], config: { registries: [{ name: 'internal', type: 'npm', mode: 'local' }] } })
  t.admin = createSandbox(`${t.kernel.url}/proxy/internal/`, t.kernel.adminToken)
  t.reader = createSandbox(`${t.kernel.url}/proxy/internal/`, t.kernel.userToken)
})
Local.after.each(async (t) => {
  t.admin.cleanup()
  t.reader.cleanup()
  await t.kernel.close()
})

Local('publish, install, view, dist-tag, deprecate, unpublish, whoami, search', async ({ kernel, admin, reader }) => {
  const v1 = makePackage(admin, 'widget-1', { name: '@acme/widget', version: '1.0.0', description: 'a widget', license: 'MIT' })
  expectOk(await admin.run('npm', ['publish'], { cwd: v1 }), 'npm publish 1.0.0')
  const v2 = makePackage(admin, 'widget-2', { name: '@acme/widget', version: '1.1.0', description: 'a widget', license: 'MIT', dependencies: { 'acme-util': '^2.0.0' } })
  const util = makePackage(admin, 'util', { name: 'acme-util', version: '2.0.0', license: 'MIT' })
  expectOk(await admin.run('npm', ['publish'], { cwd: util }), 'npm publish acme-util')
  expectOk(await admin.run('npm', ['publish'], { cwd: v2 }), 'npm publish 1.1.0')
  const beta = makePackage(admin, 'widget-beta', { name: '@acme/widget', version: '2.0.0-beta.0', license: 'MIT' })
  expectOk(await admin.run('npm', ['publish', '--tag', 'beta'], { cwd: beta }), 'npm publish --tag beta')

  // A repeated version is refused (npm 11 checks the packument itself first; the hub's 409 is
  // covered by the raw-request tests).
  const again = await admin.run('npm', ['publish'], { cwd: v1 })
  assert.is.not(again.code, 0)
  assert.match(again.stderr, /409|cannot publish over/i, again.stderr)

  // Install from a clean cache, as a read-only user.
  reader.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { '@acme/widget': '^1.0.0' } })
  expectOk(await reader.run('npm', ['install', '--no-audit', '--no-fund']), 'npm install (reader)')
  assert.is(installed(reader, '@acme/widget'), '1.1.0')
  assert.is(installed(reader, 'acme-util'), '2.0.0')
  // A read-only user cannot publish.
  const denied = await reader.run('npm', ['publish'], { cwd: makePackage(reader, 'sneaky', { name: 'sneaky', version: '1.0.0' }) })
  assert.is.not(denied.code, 0)
  assert.match(denied.stderr, /403/)

  assert.is(expectOk(await reader.run('npm', ['view', '@acme/widget', 'version']), 'view').stdout.trim(), '1.1.0')
  const tags = JSON.parse(expectOk(await reader.run('npm', ['view', '@acme/widget', 'dist-tags', '--json']), 'view dist-tags').stdout)
  assert.equal(tags, { latest: '1.1.0', beta: '2.0.0-beta.0' })
  const readme = expectOk(await reader.run('npm', ['view', '@acme/widget', 'readme']), 'view readme').stdout
  assert.match(readme, /A private package/)

  expectOk(await admin.run('npm', ['dist-tag', 'add', '@acme/widget@1.0.0', 'stable']), 'dist-tag add')
  const ls = expectOk(await reader.run('npm', ['dist-tag', 'ls', '@acme/widget']), 'dist-tag ls').stdout
  assert.match(ls, /stable: 1\.0\.0/)
  assert.match(ls, /latest: 1\.1\.0/)
  expectOk(await admin.run('npm', ['dist-tag', 'rm', '@acme/widget', 'stable']), 'dist-tag rm')
  assert.not.match(expectOk(await reader.run('npm', ['dist-tag', 'ls', '@acme/widget']), 'dist-tag ls').stdout, /stable/)

  expectOk(await admin.run('npm', ['deprecate', '@acme/widget@1.0.0', 'use 1.1 or later']), 'deprecate')
  assert.is(expectOk(await reader.run('npm', ['view', '@acme/widget@1.0.0', 'deprecated']), 'view deprecated').stdout.trim(), 'use 1.1 or later')
  assert.is(expectOk(await reader.run('npm', ['view', '@acme/widget@1.1.0', 'deprecated']), 'view deprecated').stdout.trim(), '')

  assert.is(expectOk(await admin.run('npm', ['whoami']), 'whoami').stdout.trim(), 'admin')
  assert.is(expectOk(await reader.run('npm', ['whoami']), 'whoami').stdout.trim(), 'user')
  assert.match(expectOk(await reader.run('npm', ['search', 'widget']), 'search').stdout, /@acme\/widget/)
  assert.is(expectOk(await reader.run('npm', ['ping']), 'ping').code, 0)

  // Unpublish one version (npm's PUT-with-fewer-versions, then DELETE of the tarball), then the rest.
  expectOk(await admin.run('npm', ['unpublish', '@acme/widget@1.0.0']), 'unpublish 1.0.0')
  const versions = JSON.parse(expectOk(await reader.run('npm', ['view', '@acme/widget', 'versions', '--json']), 'view versions').stdout)
  assert.equal(versions, ['1.1.0', '2.0.0-beta.0'])
  assert.is((await kernel.request('GET', '/proxy/internal/@acme/widget/-/widget-1.0.0.tgz', { token: kernel.userToken })).status, 404)
  assert.is((await kernel.request('GET', '/proxy/internal/@acme/widget/-/widget-1.1.0.tgz', { token: kernel.userToken })).status, 200)
  expectOk(await admin.run('npm', ['unpublish', '@acme/widget', '--force']), 'unpublish all')
  const gone = await reader.run('npm', ['view', '@acme/widget'])
  assert.is.not(gone.code, 0)
  assert.match(gone.stderr, /E404|404/)
})

Local('pnpm and yarn install what npm published; npm login gets a clear refusal', async ({ admin, reader }) => {
  const pkg = makePackage(admin, 'lib', { name: '@acme/lib', version: '0.3.0', license: 'MIT' })
  expectOk(await admin.run('npm', ['publish'], { cwd: pkg }), 'npm publish')
  reader.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { '@acme/lib': '0.3.0' } })
  for (const [kind, args] of [['pnpm', ['install', '--no-frozen-lockfile', '--config.node-linker=hoisted']], ['yarn', ['install', '--no-lockfile', '--non-interactive']], ['berry', ['install']]] as const) {
    reader.clearClientState()
    expectOk(await reader.run(kind, [...args]), `${kind} install`)
    assert.is(installed(reader, '@acme/lib'), '0.3.0', kind)
  }
  const login = await reader.run('npm', ['login'], { timeoutMs: 30_000 })
  assert.is.not(login.code, 0)
  assert.match(login.stderr, /_authToken|not supported/, login.stderr + login.stdout)
})

Local.run()

// ---------------------------------------------------------------------------------------------

const Hybrid = suite<{ kernel: TestKernel; upstream: FixtureRegistry; sandbox: ClientSandbox }>('npm hybrid mode')

Hybrid.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(standardPackages())
  t.kernel = await createTestKernel({
    plugins: [npm],
    config: { registries: [{ name: 'hub', type: 'npm', mode: 'hybrid', upstreams: [t.upstream.url] }] },
  })
  t.sandbox = createSandbox(`${t.kernel.url}/proxy/hub/`, t.kernel.adminToken)
})
Hybrid.after.each(async (t) => {
  t.sandbox.cleanup()
  await t.kernel.close()
  await t.upstream.close()
})

Hybrid('serves local packages and upstream ones in one install; a local name hides its upstream twin', async ({ kernel, upstream, sandbox }) => {
  const priv = makePackage(sandbox, 'private', { name: '@acme/private', version: '1.0.0', license: 'MIT', dependencies: { 'fixture-a': '^1.0.0' } })
  expectOk(await sandbox.run('npm', ['publish'], { cwd: priv }), 'publish @acme/private')
  sandbox.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { '@acme/private': '^1.0.0', 'fixture-bin': '3.0.0' } })
  // (npm publish itself asked for the packument first: not local yet, so the upstream was asked.)
  upstream.requests.length = 0
  expectOk(await sandbox.run('npm', ['install', '--no-audit', '--no-fund']), 'npm install (hybrid)')
  assert.is(installed(sandbox, '@acme/private'), '1.0.0')
  assert.is(installed(sandbox, 'fixture-a'), '1.0.1')
  assert.is(installed(sandbox, 'fixture-c'), '1.1.0')
  assert.is(upstream.count('/@acme'), 0)

  // Dependency-confusion guard: once fixture-c exists locally, upstream versions are not served.
  const twin = makePackage(sandbox, 'twin', { name: 'fixture-c', version: '9.0.0', license: 'MIT' })
  expectOk(await sandbox.run('npm', ['publish'], { cwd: twin }), 'publish local fixture-c')
  const doc = (await kernel.request('GET', '/proxy/hub/fixture-c', { token: kernel.userToken })).json()
  assert.equal(Object.keys(doc.versions), ['9.0.0'])
  assert.is((await kernel.request('GET', '/proxy/hub/fixture-c/-/fixture-c-1.0.0.tgz', { token: kernel.userToken })).status, 404)
  const search = (await kernel.request('GET', '/proxy/hub/-/v1/search?text=fixture', { token: kernel.userToken })).json()
  const names = search.objects.map((o: any) => o.package.name)
  assert.ok(names.includes('fixture-c'))
  assert.ok(names.includes('fixture-a'))
  assert.is(search.objects.find((o: any) => o.package.name === 'fixture-c').package.version, '9.0.0')
})

Hybrid('hybrid_merge_upstream serves local and upstream versions of one name', async ({ upstream }) => {
  const kernel = await createTestKernel({
    plugins: [npm],
    config: { registries: [{ name: 'merged', type: 'npm', mode: 'hybrid', hybrid_merge_upstream: true, upstreams: [upstream.url] }] },
  })
  try {
    const sandbox = createSandbox(`${kernel.url}/proxy/merged/`, kernel.adminToken)
    try {
      const twin = makePackage(sandbox, 'twin', { name: 'fixture-c', version: '9.0.0', license: 'MIT' })
      expectOk(await sandbox.run('npm', ['publish'], { cwd: twin }), 'publish local fixture-c')
      const doc = (await kernel.request('GET', '/proxy/merged/fixture-c', { token: kernel.userToken })).json()
      assert.equal(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0', '2.0.0-beta.1', '9.0.0'])
      assert.is(doc['dist-tags'].latest, '9.0.0')
      assert.is(doc['dist-tags'].next, '2.0.0-beta.1')
      assert.is((await kernel.request('GET', '/proxy/merged/fixture-c/-/fixture-c-1.0.0.tgz', { token: kernel.userToken })).status, 200)
      assert.is((await kernel.request('GET', '/proxy/merged/fixture-c/-/fixture-c-9.0.0.tgz', { token: kernel.userToken })).status, 200)
    } finally {
      sandbox.cleanup()
    }
  } finally {
    await kernel.close()
  }
})

Hybrid.run()
