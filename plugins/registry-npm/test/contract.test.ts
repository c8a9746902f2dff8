import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import { SDK_VERSION } from '@batlehub/sdk'
import { loadPluginDir } from '@batlehub/kernel/plugins'
import npm from '../src/index.ts'
import { formatNpmError } from '../src/errors.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const Contract = suite('npm plugin contract')

Contract('the production loader accepts the manifest, definition and schema', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.equal(pkg.batlehub, { kind: 'registry', id: 'npm', sdk: '^1.0.0', entry: './src/index.ts' })
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk))
  const loaded = await loadPluginDir(root)
  assert.is(loaded.kind, 'registry')
  assert.is(loaded.id, 'npm')
  assert.equal(loaded.definition.capabilities, { proxy: true, publish: true, search: true, yank: false })
  assert.equal(npm.defaultUpstreams, ['https://registry.npmjs.org'])
})

Contract('the config schema has defaults and refuses unknown keys', () => {
  const check = Compile(npm.config!)
  assert.ok(check.Check({ max_packument_bytes: 2048, max_unpacked_bytes: 2048, max_tarball_entries: 5, index_cache_packages: 100, max_search_results: 20 }))
  assert.not.ok(check.Check({ max_packument_bytes: 2048, max_unpacked_bytes: 2048, max_tarball_entries: 5, index_cache_packages: 100, max_search_results: 20, maxUnpackedBytes: 1 }))
  assert.not.ok(check.Check({ max_packument_bytes: 1, max_unpacked_bytes: 2048, max_tarball_entries: 5, index_cache_packages: 100, max_search_results: 20 }))
})

Contract('errors are npm-style JSON with the message in "error"', () => {
  const out = formatNpmError({ status: 404, code: 'BH_NOT_FOUND', message: 'package x not found', details: {} })
  assert.is(out.contentType, 'application/json')
  assert.equal(JSON.parse(out.body), { error: 'package x not found' })
})

Contract.run()
