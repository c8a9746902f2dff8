import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  expandDownloadUrl, formatIndexFile, mergeIndexFiles, parseIndexFile, parsePublishMetadata, renderIndexLine, splitFeatures, toPubtime,
} from '../src/metadata.ts'
import {
  canonicalCrateName, crateFromIndexPath, crateNameProblem, indexPath, indexPrefix, isPrerelease, isSemver, normalizeCrateName, versionKey,
} from '../src/names.ts'

const Names = suite('cargo names and index paths')

Names('index paths follow the 1 / 2 / 3/{c} / {ab}/{cd} layout, lower-cased', () => {
  assert.is(indexPath('a'), '1/a')
  assert.is(indexPath('ab'), '2/ab')
  assert.is(indexPath('abc'), '3/a/abc')
  assert.is(indexPath('cargo'), 'ca/rg/cargo')
  assert.is(indexPath('MyCrate'), 'my/cr/mycrate')
  assert.is(indexPrefix('MyCrate', false), 'My/Cr')
  assert.is(indexPrefix('MyCrate', true), 'my/cr')
})

Names('index path segments name exactly one crate', () => {
  assert.is(crateFromIndexPath(['se', 'rd', 'serde']), 'serde')
  assert.is(crateFromIndexPath(['3', 'f', 'foo']), 'foo')
  assert.is(crateFromIndexPath(['1', 'a']), 'a')
  assert.is(crateFromIndexPath(['se', 'rd', 'Serde']), null, 'index files are lower-case')
  assert.is(crateFromIndexPath(['xx', 'rd', 'serde']), null, 'wrong directory')
  assert.is(crateFromIndexPath(['3', 'f', 'fo']), null)
  assert.is(crateFromIndexPath(['..', '..', '..']), null)
  assert.is(crateFromIndexPath(['se', 'rd', 'ser%2e']), null)
})

Names('crate names follow crates.io rules', () => {
  assert.is(crateNameProblem('serde_json'), null)
  assert.is(crateNameProblem('fixture-util'), null)
  assert.is(crateNameProblem('A1'), null)
  assert.match(crateNameProblem('1abc')!, /first character must be a letter/)
  assert.match(crateNameProblem('-abc')!, /first character/)
  assert.match(crateNameProblem('a.b')!, /only ASCII letters/)
  assert.match(crateNameProblem('a/b')!, /only ASCII letters/)
  assert.match(crateNameProblem('crème')!, /only ASCII letters/)
  assert.match(crateNameProblem('x'.repeat(65))!, /longer than 64/)
  assert.match(crateNameProblem('')!, /empty/)
  assert.match(crateNameProblem('nul')!, /reserved/)
  assert.match(crateNameProblem('Std')!, /reserved/)
})

Names('normalised and canonical names: case folds, - and _ collide only for publishing', () => {
  assert.is(normalizeCrateName('Foo-Bar'), 'foo-bar')
  assert.is(normalizeCrateName('foo_bar'), 'foo_bar')
  assert.is(canonicalCrateName('Foo-Bar'), canonicalCrateName('foo_bar'))
})

Names('versions are SemVer 2.0', () => {
  for (const v of ['0.1.0', '1.0.0-beta.1', '1.0.0+build.5', '1.0.0-rc.1+x']) assert.ok(isSemver(v), v)
  for (const v of ['1.0', '01.0.0', '1.0.0-', 'v1.0.0', '1.0.0 ', '', '1.0.0-01']) assert.not.ok(isSemver(v), v)
  assert.ok(isPrerelease('0.3.0-beta.1'))
  assert.not.ok(isPrerelease('1.0.0+build-5'))
  assert.is(versionKey('1.0.0+abc'), '1.0.0')
})

Names.run()

const Publish = suite('cargo publish metadata → index line')

const publishJson = (over: Record<string, unknown> = {}) => ({
  name: 'my-lib',
  vers: '0.1.0',
  deps: [
    { name: 'serde', version_req: '^1.0', features: ['derive'], optional: true, default_features: false, target: null, kind: 'normal', registry: 'https://github.com/rust-lang/crates.io-index', explicit_name_in_toml: null },
    { name: 'rand', version_req: '^0.8', features: [], optional: false, default_features: true, target: 'cfg(unix)', kind: 'normal', registry: null, explicit_name_in_toml: 'random' },
    { name: 'cc', version_req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'build', registry: null, explicit_name_in_toml: null },
  ],
  features: { default: ['std'], std: [], serde: ['dep:serde', 'random?/std'] },
  authors: ['A <a@example.com>'],
  description: 'A library',
  license: 'MIT',
  links: null,
  rust_version: '1.70',
  readme: '# big readme',
  badges: {},
  ...over,
})

Publish('maps publish fields onto the index format exactly', () => {
  const m = parsePublishMetadata(publishJson())
  assert.is(m.name, 'my-lib')
  assert.is(m.vers, '0.1.0')
  const line = renderIndexLine(m.template, { cksum: 'ab'.repeat(32), yanked: false, publishedAt: '2025-11-12T19:30:12.345Z' })
  assert.equal(JSON.parse(JSON.stringify(line)), {
    name: 'my-lib',
    vers: '0.1.0',
    deps: [
      { name: 'serde', req: '^1.0', features: ['derive'], optional: true, default_features: false, target: null, kind: 'normal', registry: 'https://github.com/rust-lang/crates.io-index', package: null },
      // Renamed: the index names the alias and keeps the package in `package`.
      { name: 'random', req: '^0.8', features: [], optional: false, default_features: true, target: 'cfg(unix)', kind: 'normal', registry: null, package: 'rand' },
      { name: 'cc', req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'build', registry: null, package: null },
    ],
    cksum: 'ab'.repeat(32),
    features: { default: ['std'], std: [] },
    yanked: false,
    links: null,
    rust_version: '1.70',
    v: 2,
    features2: { serde: ['dep:serde', 'random?/std'] },
    pubtime: '2025-11-12T19:30:12Z',
  })
  assert.is(m.version.description, 'A library')
  assert.equal(m.version.authors, ['A <a@example.com>'])
  assert.not.ok('readme' in m.version, 'the README stays out of the stored metadata')
})

Publish('without extended features there is no v or features2 (older cargo keeps reading the line)', () => {
  const m = parsePublishMetadata(publishJson({ features: { default: [] }, deps: [] }))
  const line = renderIndexLine(m.template, { cksum: '00', yanked: true })
  assert.not.ok('v' in line)
  assert.not.ok('features2' in line)
  assert.not.ok('pubtime' in line)
  assert.is(line.yanked, true)
})

Publish('missing optional fields read as null; unknown fields are ignored', () => {
  const m = parsePublishMetadata({ name: 'tiny', vers: '1.0.0', something_new: { x: 1 } })
  assert.equal(m.template.deps, [])
  assert.equal(m.template.features, {})
  assert.is(m.template.links, null)
})

Publish('refuses malformed metadata with a reason', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /JSON object/],
    [publishJson({ name: '../etc' }), /invalid crate name/],
    [publishJson({ name: 'a b' }), /invalid crate name/],
    [publishJson({ vers: '1.0' }), /SemVer/],
    [publishJson({ deps: 'serde' }), /deps must be an array/],
    [publishJson({ deps: [{ name: 'a/b', version_req: '1' }] }), /not a valid crate name/],
    [publishJson({ deps: [{ name: 'ok', version_req: '$(rm -rf)' }] }), /version requirement/],
    [publishJson({ deps: [{ name: 'ok', version_req: '1', kind: 'weird' }] }), /kind must be/],
    [publishJson({ deps: [{ name: 'ok', version_req: '1', registry: 'javascript:alert(1)' }] }), /not an index URL/],
    [publishJson({ features: { 'bad feature': [] } }), /invalid feature name/],
    [publishJson({ features: { x: ['dep:nothere'] } }), /names no dependency/],
    [publishJson({ features: ['x'] }), /features must be an object/],
    [publishJson({ rust_version: 'latest' }), /rust_version/],
    [publishJson({ links: 5 }), /links must be a string/],
  ]
  for (const [json, re] of cases) {
    try {
      parsePublishMetadata(json)
      assert.unreachable(`accepted ${JSON.stringify(json).slice(0, 120)}`)
    } catch (err) {
      const e = err as { code?: string; status?: number; message: string }
      if (e.code === undefined) throw err
      assert.match(e.message, re)
      assert.is(e.status, 400)
    }
  }
})

Publish('splitFeatures keeps plain features in features', () => {
  assert.equal(splitFeatures({ a: ['b'], b: [] }), { features: { a: ['b'], b: [] } })
  assert.equal(splitFeatures({ a: ['x?/y'] }), { features: {}, features2: { a: ['x?/y'] } })
})

Publish('pubtime is UTC with whole seconds', () => {
  assert.is(toPubtime('2024-01-02T03:04:05.999Z'), '2024-01-02T03:04:05Z')
  assert.is(toPubtime('garbage'), undefined)
})

Publish.run()

const Index = suite('cargo index files')

Index('parses lines, skipping what cargo could not read', () => {
  const text = '{"name":"a","vers":"1.0.0","deps":[],"cksum":"x","features":{},"yanked":false}\nnot json\n\n{"name":"a"}\n{"name":"a","vers":"1.1.0","deps":[],"cksum":"y","features":{},"yanked":true}\n'
  const lines = parseIndexFile(text)
  assert.equal(lines.map((l) => l.line.vers), ['1.0.0', '1.1.0'])
  assert.is(lines[1]!.line.yanked, true)
})

Index('hybrid merge: local lines first, upstream only for versions not local', () => {
  const local = [renderIndexLine({ name: 'a', vers: '1.0.0', deps: [], features: {}, links: null }, { cksum: 'L', yanked: false })]
  const upstream = parseIndexFile('{"name":"a","vers":"1.0.0+meta","deps":[],"cksum":"U1","features":{}}\n{"name":"a","vers":"2.0.0","deps":[],"cksum":"U2","features":{}}\n')
  const merged = parseIndexFile(mergeIndexFiles(local, upstream))
  assert.equal(merged.map((l) => [l.line.vers, l.line.cksum]), [['1.0.0', 'L'], ['2.0.0', 'U2']])
  assert.is(formatIndexFile([]), '')
})

Index('dl templates: markers replaced, or /{crate}/{version}/download appended', () => {
  assert.is(expandDownloadUrl('https://static.crates.io/crates', 'serde', '1.0.0', 'c'), 'https://static.crates.io/crates/serde/1.0.0/download')
  assert.is(expandDownloadUrl('https://static.crates.io/crates/', 'serde', '1.0.0', 'c'), 'https://static.crates.io/crates/serde/1.0.0/download')
  assert.is(
    expandDownloadUrl('https://m.example/{prefix}/{lowerprefix}/{crate}/{crate}-{version}.crate?sum={sha256-checksum}', 'MyCrate', '0.1.0', 'abc'),
    'https://m.example/My/Cr/my/cr/MyCrate/MyCrate-0.1.0.crate?sum=abc',
  )
})

Index.run()
