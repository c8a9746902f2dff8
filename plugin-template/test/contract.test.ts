import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import { SDK_VERSION } from '@batlehub/sdk'
import { loadPluginDir } from '@batlehub/kernel/plugins'
import files from '../src/index.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const Contract = suite('files plugin contract')

Contract('the production loader accepts the manifest, definition and schema', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.is(pkg.batlehub.kind, 'registry')
  assert.is(pkg.batlehub.id, files.id)
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk))
  const loaded = await loadPluginDir(root)
  assert.is(loaded.kind, 'registry')
  assert.is(loaded.id, 'files')
  assert.equal(loaded.definition.capabilities, { proxy: true, publish: true, search: false, yank: false })
})

Contract('the config schema applies defaults and refuses unknown keys', () => {
  const check = Compile(files.config!)
  assert.ok(check.Check({ max_file_bytes: 1024 }))
  assert.not.ok(check.Check({ max_file_bytes: 1024, maxFileBytes: 1 }))
  assert.not.ok(check.Check({ max_file_bytes: 0 }))
})

Contract.run()
