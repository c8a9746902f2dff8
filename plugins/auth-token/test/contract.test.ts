import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'
import { SDK_VERSION, type PluginManifest } from '@batlehub/sdk'
import plugin, { tokenAuth } from '../src/index.ts'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string
  type: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  batlehub: PluginManifest
}

const Manifest = suite('auth-token contract: manifest')

Manifest('is an auth plugin with id token', () => {
  assert.is(pkg.name, '@batlehub/auth-token')
  assert.is(pkg.type, 'module')
  assert.is(pkg.batlehub.kind, 'auth')
  assert.is(pkg.batlehub.id, 'token')
  assert.is(pkg.batlehub.entry, './src/index.ts')
})

Manifest('its sdk range is satisfied by this SDK', () => {
  assert.ok(semver.validRange(pkg.batlehub.sdk), pkg.batlehub.sdk)
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk), `${SDK_VERSION} !~ ${pkg.batlehub.sdk}`)
})

Manifest('the SDK is a peer dependency; typebox is pinned exactly', () => {
  assert.ok(pkg.peerDependencies?.['@batlehub/sdk'])
  assert.not.ok(pkg.dependencies?.['@batlehub/sdk'])
  assert.is(pkg.dependencies?.typebox, '1.4.3')
})

Manifest.run()

const Definition = suite('auth-token contract: definition')

Definition('the default export is the named export and matches the manifest id', () => {
  assert.is(plugin, tokenAuth)
  assert.is(plugin.id, pkg.batlehub.id)
})

Definition('capabilities are data: tokens yes, passwords no', () => {
  assert.equal({ ...plugin.capabilities }, { tokens: true, password: false })
})

Definition('setup is a function', () => {
  assert.type(plugin.setup, 'function')
})

Definition.run()

const Schema = suite('auth-token contract: config schema')
const schema = plugin.config!
const check = Compile(schema)
// The kernel applies defaults, then checks (STYLE §5).
const accepts = (table: unknown): boolean => check.Check(Value.Default(schema, structuredClone(table)))

Schema('accepts the seed table', () => {
  // administration.txt, "Static tokens"
  assert.ok(accepts({ tokens: [{ value: 'ci-pipeline-token', role: 'user', user_id: 'ci' }] }))
})

Schema('accepts an empty table and fills in defaults', () => {
  assert.ok(accepts({}))
  assert.equal(Value.Default(schema, { tokens: [{ value: 'x' }] }), { tokens: [{ value: 'x', role: 'user', groups: [] }] })
})

Schema('accepts every documented key', () => {
  assert.ok(accepts({
    tokens: [{ value: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g', role: 'admin', user_id: 'admin', groups: ['ops'], name: 'Bootstrap admin' }],
  }))
})

Schema('rejects unknown keys at both levels', () => {
  assert.not.ok(accepts({ tokens: [{ value: 'x', password: 'y' }] }))
  assert.not.ok(accepts({ tokens: [{ value: 'x', userId: 'camel' }] }))
  assert.not.ok(accepts({ tokens: [], token: 'x' }))
  const errors = [...check.Errors(Value.Default(schema, { tokens: [{ value: 'x', rol: 'admin' }] }))]
  assert.ok(errors.some((e) => e.instancePath === '/tokens/0/rol' || e.instancePath === '/tokens/0'))
})

Schema('rejects wrong values', () => {
  assert.not.ok(accepts({ tokens: [{ role: 'user' }] }), 'value is required')
  assert.not.ok(accepts({ tokens: [{ value: '' }] }), 'empty value')
  assert.not.ok(accepts({ tokens: [{ value: 'x', role: 'root' }] }), 'unknown role')
  assert.not.ok(accepts({ tokens: [{ value: 'x', groups: 'ops' }] }), 'groups is an array')
  assert.not.ok(accepts({ tokens: [{ value: 'x', user_id: '' }] }), 'empty user_id')
})

Schema.run()
