import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as sdk from '@batlehub/sdk'
import { discoverPlugins, loadPluginDir, PluginLoadError } from '../src/plugins/loader.ts'
import { createTestKernel } from '../src/testing/index.ts'

interface Ctx { dir: string }
const Loader = suite<Ctx>('plugin loader')

Loader.before.each((t) => {
  t.dir = mkdtempSync(join(tmpdir(), 'bh-plugins-'))
})
Loader.after.each((t) => {
  rmSync(t.dir, { recursive: true, force: true })
})

function plugin(root: string, name: string, manifest: Record<string, unknown> | undefined, source: string, file = 'index.ts'): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@test/${name}`, version: '1.0.0', type: 'module', ...(manifest ? { batlehub: manifest } : {}) }))
  writeFileSync(join(dir, file), source)
  return dir
}

const registrySource = (id: string, setup: string) => `
import { defineRegistryPlugin, NotFoundError } from '@batlehub/sdk'
export const sdkNotFound = NotFoundError
export default defineRegistryPlugin({
  id: '${id}',
  capabilities: { proxy: true, publish: false, search: false, yank: false },
  ${setup}
})
`

Loader('a bad manifest is refused by name before any code is imported', ({ dir }) => {
  plugin(dir, 'bad-kind', { kind: 'storage', id: 'x', sdk: '^1.0.0', entry: './index.ts' }, 'throw new Error("must not be imported")')
  plugin(dir, 'bad-id', { kind: 'registry', id: 'Not_Kebab', sdk: '^1.0.0', entry: './index.ts' }, '')
  plugin(dir, 'no-entry', { kind: 'registry', id: 'no-entry', sdk: '^1.0.0', entry: './missing.ts' }, '')
  plugin(dir, 'escape', { kind: 'registry', id: 'escape', sdk: '^1.0.0', entry: '../../etc/passwd' }, '')
  plugin(dir, 'extra-key', { kind: 'registry', id: 'extra', sdk: '^1.0.0', entry: './index.ts', hooks: true }, '')
  const found = discoverPlugins({ dirs: [dir], cwd: dir, installed: false })
  assert.is(found.plugins.length, 0)
  const messages = found.errors.map((e) => e.message).sort()
  assert.equal(messages, [
    'plugin @test/bad-id: bad manifest: "batlehub.id" must be kebab-case (got "Not_Kebab")',
    'plugin @test/bad-kind: bad manifest: "batlehub.kind" must be one of registry, auth (got "storage")',
    'plugin @test/escape: bad manifest: "batlehub.entry" points outside the package (../../etc/passwd)',
    'plugin @test/extra-key: bad manifest: unknown key "batlehub.hooks"',
    'plugin @test/no-entry: bad manifest: entry ./missing.ts does not exist',
  ])
})

Loader('an SDK range this kernel does not satisfy is refused by name', ({ dir }) => {
  plugin(dir, 'future', { kind: 'registry', id: 'future', sdk: '^2.0.0', entry: './index.ts' }, 'throw new Error("never")')
  const found = discoverPlugins({ dirs: [dir], cwd: dir, installed: false })
  assert.is(found.errors.length, 1)
  assert.is(found.errors[0]!.message, `plugin @test/future: bad manifest: requires @batlehub/sdk ^2.0.0, but this kernel provides ${sdk.SDK_VERSION}`)
  assert.ok(found.errors[0] instanceof PluginLoadError)
})

Loader('TypeScript (with non-erasable syntax) and JavaScript plugins load through jiti with one SDK copy', async ({ dir }) => {
  const ts = plugin(dir, 'ts-plugin', { kind: 'registry', id: 'ts-plugin', sdk: '^1.0.0', entry: './index.ts' },
    registrySource('ts-plugin', 'setup() { return {} }') + '\nexport enum Kind { A = 1 }\n')
  const js = plugin(dir, 'js-plugin', { kind: 'registry', id: 'js-plugin', sdk: '^1.0.0', entry: './index.js' },
    registrySource('js-plugin', 'setup() { return {} }'), 'index.js')
  const a = await loadPluginDir(ts)
  const b = await loadPluginDir(js)
  assert.is(a.id, 'ts-plugin')
  assert.is(b.id, 'js-plugin')
  // The loader aliases @batlehub/sdk to the kernel's copy: classes are identical objects.
  const { createJiti } = await import('jiti')
  const { sdkAliases } = await import('../src/plugins/loader.ts')
  const loaded: any = await createJiti(import.meta.url, { alias: sdkAliases() }).import(join(ts, 'index.ts'))
  assert.ok(loaded.sdkNotFound === sdk.NotFoundError, 'one copy of @batlehub/sdk in memory')
})

Loader('a definition whose id differs from its manifest is refused', async ({ dir }) => {
  const p = plugin(dir, 'liar', { kind: 'registry', id: 'liar', sdk: '^1.0.0', entry: './index.ts' }, registrySource('other', 'setup() { return {} }'))
  try {
    await loadPluginDir(p)
    assert.unreachable()
  } catch (err) {
    assert.is((err as Error).message, 'plugin @test/liar: definition failed: definition id "other" does not match the manifest id "liar"')
  }
})

Loader('a setup that throws refuses start-up, naming the plugin and the cause', async ({ dir }) => {
  const p = plugin(dir, 'thrower', { kind: 'registry', id: 'thrower', sdk: '^1.0.0', entry: './index.ts' },
    registrySource('thrower', 'setup() { throw new Error("cannot reach the index") }'))
  try {
    const hub = await createTestKernel({ plugins: [p], discover: true, config: { registries: [{ name: 't', type: 'thrower', upstreams: ['http://127.0.0.1:9'] }] } })
    await hub.close()
    assert.unreachable('start-up must fail')
  } catch (err) {
    assert.is((err as Error).message, 'plugin @test/thrower: setup failed: cannot reach the index')
  }
})

Loader('a setup that never returns is refused after the time limit', async ({ dir }) => {
  const p = plugin(dir, 'sleeper', { kind: 'registry', id: 'sleeper', sdk: '^1.0.0', entry: './index.ts' },
    registrySource('sleeper', 'setup() { return new Promise(() => {}) }'))
  try {
    const hub = await createTestKernel({ plugins: [p], setupTimeoutMs: 300, config: { registries: [{ name: 's', type: 'sleeper', upstreams: ['http://127.0.0.1:9'] }] } })
    await hub.close()
    assert.unreachable('start-up must fail')
  } catch (err) {
    assert.is((err as Error).message, 'plugin @test/sleeper: setup failed: did not finish within 300 ms')
  }
})

Loader('routes cannot be added after the kernel is ready', async ({ dir }) => {
  const p = plugin(dir, 'late', { kind: 'registry', id: 'late', sdk: '^1.0.0', entry: './index.ts' }, `
import { defineRegistryPlugin, reply } from '@batlehub/sdk'
let routes
export default defineRegistryPlugin({
  id: 'late',
  capabilities: { proxy: true, publish: false, search: false, yank: false },
  setup(ctx) {
    routes = ctx.routes
    ctx.routes.get('/late', () => {
      try { routes.get('/later', () => reply.json({})) ; return reply.json({ added: true }) }
      catch (e) { return reply.json({ refused: e.message }) }
    }, { permission: null })
    return {}
  },
})
`)
  const hub = await createTestKernel({ plugins: [p], config: { registries: [{ name: 'late', type: 'late', upstreams: ['http://127.0.0.1:9'] }] } })
  try {
    const res = await hub.request('GET', '/proxy/late/late')
    assert.equal(res.json(), { refused: 'registry late: routes can only be added during setup' })
  } finally {
    await hub.close()
  }
})

Loader.run()
