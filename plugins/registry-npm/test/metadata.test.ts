import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BASE_URL_PLACEHOLDER, type LocalPackageInfo } from '@batlehub/sdk'
import { abbreviate, lookupTarball, mergePackuments, renderLocal, resolveSpec, revisionOf, transformUpstream, versionSummaries } from '../src/metadata.ts'
import { parseName } from '../src/names.ts'
import { buildPackage, startFixtureRegistry, standardPackages } from './support/fixtures.ts'

const Metadata = suite('npm packument transforms')
const UP = 'https://registry.example.org'

function upstreamDoc(): Record<string, any> {
  return {
    _id: '@s/pkg', _rev: '3-abc', name: '@s/pkg', description: 'd', readme: '# big readme',
    'dist-tags': { latest: '1.0.0', next: '2.0.0-rc.1', broken: '9.9.9' },
    time: { created: '2024-01-01T00:00:00.000Z', modified: '2024-03-01T00:00:00.000Z', '1.0.0': '2024-01-01T00:00:00.000Z', '2.0.0-rc.1': '2024-03-01T00:00:00.000Z' },
    versions: {
      '1.0.0': { name: '@s/pkg', version: '1.0.0', dependencies: { x: '^1' }, scripts: { test: 'x' }, readme: 'r', _npmUser: { name: 'u' },
        dist: { tarball: `${UP}/@s/pkg/-/pkg-1.0.0.tgz`, integrity: 'sha512-AAAA', shasum: 'A'.repeat(40), signatures: [{ keyid: 'k', sig: 's' }], attestations: { url: 'u' } } },
      '2.0.0-rc.1': { name: '@s/pkg', version: '2.0.0-rc.1', hasInstallScript: true, os: ['linux'],
        dist: { tarball: 'https://cdn.example.net/download/pkg/2.0.0-rc.1', integrity: 'sha512-BBBB', shasum: 'b'.repeat(40) } },
      '../evil': { name: '@s/pkg', version: '../evil', dist: { tarball: `${UP}/x.tgz` } },
      '3.0.0': { name: '@s/pkg', version: '3.0.0', dist: { tarball: 'file:///etc/passwd' } },
    },
  }
}

Metadata('full form: tarballs point at the hub, digests/signatures/attestations untouched, index keeps upstream URLs', () => {
  const name = parseName('@s/pkg')!
  const stored = transformUpstream(JSON.stringify(upstreamDoc()), { name, form: 'full', upstream: UP })!
  const doc = JSON.parse(stored.body)
  assert.equal(Object.keys(doc.versions), ['1.0.0', '2.0.0-rc.1'])
  assert.is(doc.versions['1.0.0'].dist.tarball, `${BASE_URL_PLACEHOLDER}/@s/pkg/-/pkg-1.0.0.tgz`)
  assert.is(doc.versions['2.0.0-rc.1'].dist.tarball, `${BASE_URL_PLACEHOLDER}/@s/pkg/-/pkg-2.0.0-rc.1.tgz`)
  assert.equal(doc.versions['1.0.0'].dist.signatures, [{ keyid: 'k', sig: 's' }])
  assert.equal(doc.versions['1.0.0'].dist.attestations, { url: 'u' })
  assert.is(doc.versions['1.0.0'].dist.integrity, 'sha512-AAAA')
  assert.is(doc.readme, '# big readme')
  assert.equal(doc['dist-tags'], { latest: '1.0.0', next: '2.0.0-rc.1' })
  // Canonical URL left out of the index, the odd one kept.
  assert.equal(stored.index.v['1.0.0'], ['sha512-AAAA', 'a'.repeat(40)])
  assert.equal(lookupTarball(stored.index, name, '1.0.0'), { url: `${UP}/@s/pkg/-/pkg-1.0.0.tgz`, integrity: 'sha512-AAAA', shasum: 'a'.repeat(40) })
  assert.is(lookupTarball(stored.index, name, '2.0.0-rc.1')!.url, 'https://cdn.example.net/download/pkg/2.0.0-rc.1')
  assert.is(lookupTarball(stored.index, name, '9.9.9'), null)
})

Metadata('abbreviated form keeps only install fields, whatever the upstream sent', () => {
  const name = parseName('@s/pkg')!
  const stored = transformUpstream(JSON.stringify(upstreamDoc()), { name, form: 'abbreviated', upstream: UP })!
  const doc = JSON.parse(stored.body)
  assert.equal(Object.keys(doc).sort(), ['dist-tags', 'modified', 'name', 'versions'])
  assert.is(doc.modified, '2024-03-01T00:00:00.000Z')
  assert.equal(Object.keys(doc.versions['1.0.0']).sort(), ['dependencies', 'dist', 'name', 'version'])
  assert.ok(doc.versions['2.0.0-rc.1'].hasInstallScript)
  assert.equal(doc.versions['2.0.0-rc.1'].os, ['linux'])
  // Abbreviating twice changes nothing.
  assert.equal(abbreviate(doc), doc)
})

Metadata('not a packument: null', () => {
  const name = parseName('x')!
  assert.is(transformUpstream('<html>', { name, form: 'full', upstream: UP }), null)
  assert.is(transformUpstream('[1]', { name, form: 'full', upstream: UP }), null)
})

Metadata('version summaries, specs', () => {
  const doc = upstreamDoc()
  const list = versionSummaries(doc)
  assert.equal(list.map((v) => v.version), ['2.0.0-rc.1', '1.0.0', '3.0.0', '../evil'])
  assert.is(list[0]!.publishedAt, '2024-03-01T00:00:00.000Z')
  assert.is(list[0]!.prerelease, true)
  assert.is(resolveSpec(doc, 'next')!.version, '2.0.0-rc.1')
  assert.is(resolveSpec(doc, '1.0.0')!.version, '1.0.0')
  assert.is(resolveSpec(doc, 'nope'), null)
  assert.is(resolveSpec(doc, '__proto__'), null)
})

function localPkg(): LocalPackageInfo {
  const file = (v: string) => ({ filename: `pkg-${v}.tgz`, size: 10, sha256: 'f'.repeat(64), digests: {} })
  return {
    name: '@s/pkg', normalizedName: '@s/pkg', visibility: 'public', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-02-01T00:00:00.000Z',
    tags: { beta: '2.0.0-beta.1', gone: '0.0.1' },
    versions: [
      { version: '2.0.0-beta.1', publishedAt: '2024-02-01T00:00:00.000Z', publishedBy: 'alice', yanked: false, prerelease: true, metadata: { name: '@s/pkg', version: '2.0.0-beta.1', dist: { integrity: 'sha512-Z', shasum: 'z' } }, files: [file('2.0.0-beta.1')] },
      { version: '1.1.0', publishedAt: '2024-01-15T00:00:00.000Z', publishedBy: 'bob', yanked: true, prerelease: false, metadata: { name: '@s/pkg', version: '1.1.0' }, files: [file('1.1.0')] },
      { version: '1.0.0', publishedAt: '2024-01-01T00:00:00.000Z', publishedBy: 'alice', yanked: false, deprecated: 'use 2', prerelease: false, metadata: { name: '@s/pkg', version: '1.0.0', description: 'the pkg', readme: '# readme', dependencies: { a: '1' }, dist: { integrity: 'sha512-Y', shasum: 'y' } }, files: [file('1.0.0')] },
    ],
  }
}

Metadata('local packuments: time, tags with a latest, deprecations, no yanked versions, readme at the root', () => {
  const name = parseName('@s/pkg')!
  const doc = renderLocal(localPkg(), name, 'full')
  assert.equal(Object.keys(doc.versions), ['1.0.0', '2.0.0-beta.1'])
  assert.equal(doc['dist-tags'], { beta: '2.0.0-beta.1', latest: '1.0.0' })
  assert.is(doc.versions['1.0.0'].deprecated, 'use 2')
  assert.is(doc.versions['1.0.0'].dist.tarball, `${BASE_URL_PLACEHOLDER}/@s/pkg/-/pkg-1.0.0.tgz`)
  assert.is(doc.versions['1.0.0'].readme, undefined)
  assert.is(doc.readme, '# readme')
  assert.is(doc.description, 'the pkg')
  assert.is(doc.time['1.0.0'], '2024-01-01T00:00:00.000Z')
  assert.is(doc.time.created, '2024-01-01T00:00:00.000Z')
  assert.equal(doc.maintainers, [{ name: 'alice' }])
  assert.match(doc._rev, /^4-[0-9a-f]{32}$/)
  const abbreviated = renderLocal(localPkg(), name, 'abbreviated')
  assert.equal(Object.keys(abbreviated.versions['1.0.0']).sort(), ['dependencies', 'deprecated', 'dist', 'name', 'version'])
  // The revision moves with every change.
  const changed = localPkg()
  ;(changed.versions[0] as any).deprecated = 'x'
  assert.is.not(revisionOf(changed), revisionOf(localPkg()))
})

Metadata('hybrid merge: local versions and tags win', () => {
  const merged = mergePackuments(
    { name: 'p', 'dist-tags': { latest: '9.0.0', old: '1.0.0' }, versions: { '1.0.0': { v: 'up' }, '9.0.0': { v: 'up' } }, time: { modified: '2024-01-01' } },
    { name: 'p', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { v: 'local' } }, time: { modified: '2025-01-01' } },
  )
  assert.equal(merged.versions, { '1.0.0': { v: 'local' }, '9.0.0': { v: 'up' } })
  assert.equal(merged['dist-tags'], { latest: '1.0.0', old: '1.0.0' })
  assert.is(merged.time.modified, '2025-01-01')
})

Metadata('the fixture registry serves real tarballs whose digests match their packuments', async () => {
  const registry = await startFixtureRegistry(standardPackages())
  try {
    const res = await fetch(`${registry.url}/@fixture%2fscoped`, { headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' } })
    assert.is(res.headers.get('content-type'), 'application/vnd.npm.install-v1+json')
    const doc = await res.json() as any
    assert.is(doc.time, undefined)
    const dist = doc.versions['0.1.0'].dist
    const tgz = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer())
    const { createHash } = await import('node:crypto')
    assert.is(`sha512-${createHash('sha512').update(tgz).digest('base64')}`, dist.integrity)
    assert.is(createHash('sha1').update(tgz).digest('hex'), dist.shasum)
    const full = await (await fetch(`${registry.url}/@fixture/scoped`)).json() as any
    assert.ok(full.time['0.1.0'])
    assert.is(full['dist-tags'].rc, '0.2.0-rc.0')
    const built = await buildPackage({ name: 'x', versions: [{ version: '1.0.0' }] })
    assert.is(built.versions[0]!.file, 'x-1.0.0.tgz')
  } finally {
    await registry.close()
  }
})

Metadata.run()
