import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import semver from 'semver'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { SDK_VERSION } from '@batlehub/sdk'
import { loadPluginDir } from '@batlehub/kernel/plugins'
import maven from '../src/index.ts'
import { formatMavenError } from '../src/errors.ts'
import { repositoryUrl, setupSnippets } from '../src/snippets.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const Contract = suite('maven plugin contract')

Contract('the production loader accepts the manifest, definition and schema', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.equal(pkg.batlehub, { kind: 'registry', id: 'maven', sdk: '^1.0.0', entry: './src/index.ts' })
  assert.ok(semver.satisfies(SDK_VERSION, pkg.batlehub.sdk))
  const loaded = await loadPluginDir(root)
  assert.is(loaded.kind, 'registry')
  assert.is(loaded.id, 'maven')
  assert.equal(loaded.definition.capabilities, { proxy: true, publish: true, search: true, yank: false })
  assert.equal(maven.defaultUpstreams, ['https://repo1.maven.org/maven2'])
})

Contract('the config schema applies defaults and refuses unknown keys', () => {
  const check = Compile(maven.config!)
  const defaults = Value.Default(maven.config!, {}) as Record<string, unknown>
  assert.equal(defaults, { staging_ttl_secs: 3600, max_pom_bytes: 4 * 1024 * 1024, verify_upstream_checksums: true, checksum_ttl_secs: 7 * 24 * 3600 })
  assert.ok(check.Check(defaults))
  assert.not.ok(check.Check({ ...defaults, stagingTtlSecs: 5 }))
  assert.not.ok(check.Check({ ...defaults, staging_ttl_secs: 1 }))
})

Contract('errors are plain text with the message as reason phrase', () => {
  assert.equal(formatMavenError({ status: 409, code: 'BH_MAVEN_RELEASE_EXISTS', message: 'release g:a:1 already exists', details: {} }), {
    contentType: 'text/plain; charset=utf-8', body: 'release g:a:1 already exists\n', reason: 'release g:a:1 already exists',
  })
})

Contract('setup snippets: a mirror for installs, distributionManagement and server credentials for deploys', () => {
  assert.is(repositoryUrl('https://hub.example.com/proxy/internal', 'internal'), 'https://hub.example.com/proxy/internal/maven2')
  assert.is(repositoryUrl('https://hub.example.com/', 'internal'), 'https://hub.example.com/proxy/internal/maven2')
  const proxy = setupSnippets({ baseUrl: 'https://hub.example.com', registryName: 'central', mode: 'proxy' })
  assert.equal(proxy.map((s) => s.purpose), ['install'])
  assert.match(proxy[0]!.content, /<mirrorOf>\*<\/mirrorOf>\n\s*<url>https:\/\/hub\.example\.com\/proxy\/central\/maven2<\/url>/)
  const local = setupSnippets({ baseUrl: 'https://hub.example.com', registryName: 'internal', mode: 'local' })
  assert.equal(local.map((s) => s.purpose), ['install', 'publish', 'publish'])
  assert.match(local[1]!.content, /<distributionManagement>[\s\S]*<id>internal<\/id>[\s\S]*<snapshotRepository>/)
  assert.match(local[2]!.content, /<server>\s*<id>internal<\/id>[\s\S]*<password>\$\{env\.BATLEHUB_TOKEN\}<\/password>/)
})

Contract.run()
