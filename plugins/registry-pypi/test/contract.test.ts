import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'
import { SDK_VERSION } from '@batlehub/sdk'
import { loadPluginDir } from '@batlehub/kernel/plugins'
import pypi from '../src/index.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const Contract = suite('pypi plugin contract')

Contract('the production loader accepts the manifest, definition and schema', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.is(pkg.name, '@batlehub/registry-pypi')
  assert.equal(pkg.batlehub, { kind: 'registry', id: 'pypi', sdk: '^1.0.0', entry: './src/index.ts' })
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk))
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const [name, range] of Object.entries(deps ?? {})) assert.ok(/^\d+\.\d+\.\d+$/.test(String(range)), `${name} is pinned exactly`)
  }
  const loaded = await loadPluginDir(root)
  assert.is(loaded.kind, 'registry')
  assert.is(loaded.id, 'pypi')
  assert.equal(loaded.definition.capabilities, { proxy: true, publish: true, search: true, yank: true })
  assert.equal(pypi.defaultUpstreams, ['https://pypi.org'])
})

Contract('the config schema applies defaults and refuses unknown keys', () => {
  const check = Compile(pypi.config!)
  const defaults = Value.Default(pypi.config!, {}) as Record<string, unknown>
  assert.is(defaults.simple_path, '/simple')
  assert.is(defaults.json_api_path, '/pypi')
  assert.ok(check.Check(defaults))
  assert.not.ok(check.Check({ ...defaults, simplePath: '/x' }))
  assert.not.ok(check.Check({ ...defaults, simple_path: 'no-slash' }))
  assert.ok(check.Check({ ...defaults, json_api_path: '' }))
  assert.not.ok(check.Check({ ...defaults, max_archive_entries: 0 }))
})

Contract.run()
