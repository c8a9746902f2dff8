/**
 * The hooks the kernel calls for features that span registries: version listing (release-age gate,
 * explorer), artifacts for warming, upstream search, setup snippets.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, type KernelTestHandle } from '@batlehub/kernel/testing'
import npm from '../src/index.ts'
import { startFixtureRegistry, standardPackages, type FixtureRegistry } from './support/fixtures.ts'

const Hooks = suite<{ kernel: KernelTestHandle; upstream: FixtureRegistry }>('npm registry hooks')
Hooks.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(standardPackages())
  t.kernel = await createTestKernel({ plugins: [npm], config: { registries: [{ name: 'npm', type: 'npm', mode: 'proxy', upstreams: [t.upstream.url] }] } })
})
Hooks.after.each(async (t) => {
  await t.kernel.close()
  await t.upstream.close()
})

Hooks('listVersions, artifactsFor, searchUpstream, setupSnippets', async ({ kernel, upstream }) => {
  const hooks = kernel.kernel.hosts.get('npm')!.hooks
  assert.is(hooks.normalizeName!('JSONStream'), 'JSONStream')
  const versions = await hooks.listVersions!('fixture-c', {})
  assert.equal(versions!.map((v) => v.version), ['2.0.0-beta.1', '1.1.0', '1.0.0'])
  assert.ok(versions![0]!.prerelease)
  assert.match(versions![1]!.publishedAt!, /^\d{4}-\d\d-\d\dT/)
  assert.is(await hooks.listVersions!('no-such-package', {}), null)
  const [artifact] = await hooks.artifactsFor!('@fixture/scoped', '0.1.0', {})
  assert.is(artifact!.key, 'tarballs/@fixture/scoped/scoped-0.1.0.tgz')
  assert.is(artifact!.upstream.url, `${upstream.url}/@fixture/scoped/-/scoped-0.1.0.tgz`)
  assert.match(artifact!.expect!.sha512!, /^sha512-/)
  assert.match(artifact!.expect!.sha1!, /^[0-9a-f]{40}$/)
  assert.equal(await hooks.artifactsFor!('@fixture/scoped', '9.9.9', {}), [])
  const hits = await hooks.searchUpstream!('fixture-bin', { limit: 5 })
  assert.equal(hits, [{ name: 'fixture-bin', latestVersion: '3.0.0', description: 'fixture package fixture-bin' }])
  const snippets = hooks.setupSnippets!({ baseUrl: 'https://hub.example.com/proxy/npm', registryName: 'npm', mode: 'proxy' })
  assert.is(snippets[0]!.content, 'registry=https://hub.example.com/proxy/npm/\n//hub.example.com/proxy/npm/:_authToken=${BATLEHUB_TOKEN}\n')
  assert.ok(snippets.every((s) => s.purpose === 'install'))
  assert.ok(hooks.setupSnippets!({ baseUrl: 'https://hub.example.com/proxy/internal', registryName: 'internal', mode: 'local' }).some((s) => s.purpose === 'publish'))
})

Hooks.run()
