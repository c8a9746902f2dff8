import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { LocalPackageInfo, LocalVersionInfo } from '@batlehub/sdk'
import { localProject, mergeProjects, findLocalFile } from '../src/local.ts'
import { renderLocalJsonApi, rewriteJsonApi, versionsFromJsonApi, latestVersion } from '../src/json-api.ts'
import { renderProjectHtml, type SimpleProject } from '../src/simple.ts'

const sha = (c: string) => c.repeat(64)

function version(v: string, files: string[], extra: Partial<LocalVersionInfo> = {}): LocalVersionInfo {
  return {
    version: v,
    publishedAt: '2024-05-01T00:00:00.000Z',
    yanked: false,
    prerelease: /[a-z]/.test(v),
    metadata: { summary: `v${v}`, requires_dist: ['tiny-dep>=1'] },
    files: files.flatMap((f, i) => {
      const dist = { filename: f, size: 100 + i, sha256: sha(String(i)), digests: { sha256: sha(String(i)), md5: 'f'.repeat(32) }, metadata: { kind: 'distribution', requires_python: '>=3.8', packagetype: f.endsWith('.whl') ? 'bdist_wheel' : 'sdist' } }
      return f.endsWith('.whl')
        ? [dist, { filename: `${f}.metadata`, size: 10, sha256: sha('c'), digests: { sha256: sha('c') }, metadata: { kind: 'core-metadata', of: f } }]
        : [dist]
    }),
    ...extra,
  }
}

const PKG: LocalPackageInfo = {
  name: 'Demo_Lib',
  normalizedName: 'demo-lib',
  visibility: 'public',
  createdAt: '2024-05-01T00:00:00.000Z',
  updatedAt: '2024-05-03T00:00:00.000Z',
  tags: {},
  versions: [
    version('2.0.0rc1', ['demo_lib-2.0.0rc1-py3-none-any.whl']),
    version('1.10.0', ['demo_lib-1.10.0-py3-none-any.whl', 'demo_lib-1.10.0.tar.gz']),
    version('1.9.0', ['demo_lib-1.9.0-py3-none-any.whl'], { yanked: true, yankReason: 'security' }),
  ],
}

const Local = suite('pypi local packages')

Local('render as a project page: PEP 440 order, companions hidden, hashes, yanks, core metadata', () => {
  const p = localProject(PKG, 'http://hub/proxy/py')
  assert.equal(p.versions, ['1.9.0', '1.10.0', '2.0.0rc1'])
  assert.equal(p.files.map((f) => f.filename), [
    'demo_lib-1.9.0-py3-none-any.whl', 'demo_lib-1.10.0-py3-none-any.whl', 'demo_lib-1.10.0.tar.gz', 'demo_lib-2.0.0rc1-py3-none-any.whl',
  ])
  const [yanked, wheel, sdist] = p.files
  assert.is(yanked!.yanked, 'security')
  assert.is(wheel!.url, 'http://hub/proxy/py/files/demo-lib/demo_lib-1.10.0-py3-none-any.whl')
  assert.equal(wheel!.coreMetadata, { sha256: sha('c') })
  assert.is(sdist!.coreMetadata, false)
  assert.is(wheel!.requiresPython, '>=3.8')
  assert.equal(wheel!.hashes, { sha256: sha('0'), md5: 'f'.repeat(32) })
  assert.match(renderProjectHtml(p), /demo_lib-1\.10\.0\.tar\.gz#sha256=1{64}/)
  assert.is(findLocalFile(PKG, 'demo_lib-1.10.0.tar.gz')!.version.version, '1.10.0')
  assert.is(findLocalFile(PKG, 'nope.tar.gz'), null)
})

Local('merge with an upstream page never mixes files into a local release', () => {
  const upstream: SimpleProject = {
    name: 'demo-lib',
    versions: ['1.0', '1.10.0', '3.0'],
    files: [
      { filename: 'demo_lib-1.0-py3-none-any.whl', url: 'u1', hashes: {}, yanked: false, coreMetadata: false },
      // Same release as a local one (1.10 == 1.10.0): must not appear.
      { filename: 'demo_lib-1.10-py3-none-any.whl', url: 'u2', hashes: {}, yanked: false, coreMetadata: false },
      { filename: 'demo_lib-1.10.0.tar.gz', url: 'u3', hashes: {}, yanked: false, coreMetadata: false },
      { filename: 'demo_lib-3.0.tar.gz', url: 'u4', hashes: {}, yanked: false, coreMetadata: false },
    ],
  }
  const merged = mergeProjects(localProject(PKG, 'http://hub'), upstream)
  const names = merged.files.map((f) => f.filename)
  assert.ok(names.includes('demo_lib-1.0-py3-none-any.whl'))
  assert.ok(names.includes('demo_lib-3.0.tar.gz'))
  assert.not.ok(names.includes('demo_lib-1.10-py3-none-any.whl'))
  assert.is(merged.files.filter((f) => f.filename === 'demo_lib-1.10.0.tar.gz').length, 1)
  assert.is(merged.files.find((f) => f.filename === 'demo_lib-1.10.0.tar.gz')!.url, 'http://hub/files/demo-lib/demo_lib-1.10.0.tar.gz')
  assert.equal(merged.versions, ['1.9.0', '1.10.0', '2.0.0rc1', '1.0', '3.0'])
})

const Json = suite('pypi JSON API')

Json('renders local packages in PyPI JSON API shape', () => {
  const doc = renderLocalJsonApi(PKG, undefined, 'http://hub/proxy/py')!
  // info.version: newest non-yanked final release, not the pre-release.
  assert.is(doc.info.version, '1.10.0')
  assert.is(doc.info.name, 'Demo_Lib')
  assert.equal(doc.info.requires_dist, ['tiny-dep>=1'])
  assert.equal(Object.keys(doc.releases!), ['1.9.0', '1.10.0', '2.0.0rc1'])
  assert.is(doc.urls!.length, 2)
  assert.is(doc.urls![0]!.url, 'http://hub/proxy/py/files/demo-lib/demo_lib-1.10.0-py3-none-any.whl')
  assert.is(doc.releases!['1.9.0']![0]!.yanked_reason, 'security')
  const one = renderLocalJsonApi(PKG, '1.9.0', 'http://hub')!
  assert.is(one.info.version, '1.9.0')
  assert.is(one.releases, undefined)
  assert.is(renderLocalJsonApi(PKG, '7.0', 'http://hub'), null)
  assert.is(latestVersion(PKG.versions.slice(0, 1))!.version, '2.0.0rc1')
})

Json('rewrites upstream documents and lists versions with publish times', () => {
  const upstream = {
    info: { name: 'demo-lib', version: '1.1' },
    urls: [{ filename: 'demo_lib-1.1.tar.gz', url: 'https://files/x.tar.gz' }],
    releases: {
      '1.0': [{ filename: 'demo_lib-1.0.tar.gz', url: 'https://files/y.tar.gz', upload_time_iso_8601: '2024-01-02T03:04:05.123456Z', yanked: true }],
      '1.1': [
        { filename: 'demo_lib-1.1.tar.gz', url: 'https://files/x.tar.gz', upload_time_iso_8601: '2024-02-02T00:00:00.000000Z' },
        { filename: 'demo_lib-1.1-py3-none-any.whl', url: 'https://files/z.whl', upload_time_iso_8601: '2024-02-01T00:00:00.000000Z' },
      ],
      '1.2rc1': [],
    },
  }
  const rewritten = JSON.parse(rewriteJsonApi(JSON.stringify(upstream), 'Demo_Lib')!)
  assert.is(rewritten.urls[0].url, '@@BATLEHUB_BASE_URL@@/files/demo-lib/demo_lib-1.1.tar.gz')
  assert.is(rewritten.releases['1.0'][0].url, '@@BATLEHUB_BASE_URL@@/files/demo-lib/demo_lib-1.0.tar.gz')
  assert.is(rewriteJsonApi('not json', 'x'), null)
  assert.is(rewriteJsonApi('{"no":"info"}', 'x'), null)
  assert.equal(versionsFromJsonApi(upstream as never), [
    { version: '1.2rc1', prerelease: true, yanked: false },
    { version: '1.1', publishedAt: '2024-02-01T00:00:00.000Z', prerelease: false, yanked: false },
    { version: '1.0', publishedAt: '2024-01-02T03:04:05.123Z', prerelease: false, yanked: true },
  ])
})

Local.run()
Json.run()
