import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'
import { SDK_VERSION } from '@batlehub/sdk'
import { loadPluginDir } from '@batlehub/kernel/plugins'
import cargo from '../src/index.ts'
import { formatCargoError } from '../src/errors.ts'
import { setupSnippets } from '../src/snippets.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const Contract = suite('cargo plugin contract')

Contract('the production loader accepts the manifest, definition and schema', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.is(pkg.name, '@batlehub/registry-cargo')
  assert.is(pkg.type, 'module')
  assert.equal(pkg.batlehub, { kind: 'registry', id: 'cargo', sdk: '^1.0.0', entry: './src/index.ts' })
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk))
  assert.ok(pkg.peerDependencies['@batlehub/sdk'])
  for (const v of Object.values(pkg.dependencies as Record<string, string>)) assert.match(v, /^\d+\.\d+\.\d+$/, 'exact pins')
  const loaded = await loadPluginDir(root)
  assert.is(loaded.kind, 'registry')
  assert.is(loaded.id, 'cargo')
  assert.equal(loaded.definition.capabilities, { proxy: true, publish: true, search: true, yank: true })
  assert.equal(cargo.defaultUpstreams, ['https://index.crates.io'])
})

Contract('the config schema has defaults for everything and refuses unknown keys', () => {
  const check = Compile(cargo.config!)
  const defaults = Value.Default(cargo.config!, {}) as Record<string, unknown>
  assert.ok(check.Check(defaults))
  assert.is(defaults.max_crate_bytes, 10 * 1024 * 1024)
  assert.is(defaults.download_url, undefined)
  assert.ok(check.Check({ ...defaults, download_url: 'https://static.crates.io/crates', api_url: 'https://crates.io' }))
  assert.not.ok(check.Check({ ...defaults, downloadUrl: 'https://x' }))
  assert.not.ok(check.Check({ ...defaults, download_url: 'ftp://x' }))
  assert.not.ok(check.Check({ ...defaults, max_crate_bytes: 0 }))
})

Contract('errors use cargo\'s {"errors":[{"detail"}]} body', () => {
  const out = formatCargoError({ status: 404, code: 'BH_NOT_FOUND', message: 'crate `x` does not exist', details: {} })
  assert.match(out.contentType, /^application\/json/)
  assert.equal(JSON.parse(out.body), { errors: [{ detail: 'crate `x` does not exist' }] })
})

Contract('setup snippets: source replacement for installs, a named registry for publishing', () => {
  const proxy = setupSnippets({ baseUrl: 'https://hub.example', registryName: 'crates', mode: 'proxy', authRequired: false })
  assert.equal(proxy.map((s) => s.purpose), ['install'])
  assert.match(proxy[0]!.content, /\[source\.crates-io\]\nreplace-with = "batlehub"/)
  assert.match(proxy[0]!.content, /registry = "sparse\+https:\/\/hub\.example\/proxy\/crates\/registry\/"/)
  const local = setupSnippets({ baseUrl: 'https://hub.example/proxy/internal', registryName: 'internal', mode: 'local', authRequired: true })
  assert.equal(local.map((s) => s.purpose), ['publish', 'publish'])
  assert.match(local[0]!.content, /\[registries\.internal\]\nindex = "sparse\+https:\/\/hub\.example\/proxy\/internal\/registry\/"/)
  assert.match(local[0]!.content, /CARGO_REGISTRIES_INTERNAL_TOKEN/)
  const hybrid = setupSnippets({ baseUrl: 'https://hub.example', registryName: 'my-hub', mode: 'hybrid', authRequired: true })
  assert.match(hybrid[0]!.content, /\[registries\.my-hub\][\s\S]*replace-with = "my-hub"/)
  assert.match(hybrid[0]!.content, /CARGO_REGISTRIES_MY_HUB_TOKEN/)
})

Contract.run()
