import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  canonicalVersion, compareVersions, isPrerelease, isSafeFilename, isValidName, normalizeName, normalizeVersion, parseDistributionFilename,
} from '../src/names.ts'

const Names = suite('pypi names (PEP 503, PEP 508)')

Names('normalises runs of -_. and case', () => {
  assert.is(normalizeName('Friendly-Bard'), 'friendly-bard')
  assert.is(normalizeName('FRIENDLY_BARD'), 'friendly-bard')
  assert.is(normalizeName('friendly.bard'), 'friendly-bard')
  assert.is(normalizeName('FrIeNdLy-._.-bArD'), 'friendly-bard')
})

Names('accepts PEP 508 names and refuses the rest', () => {
  for (const ok of ['a', 'A1', 'requests', 'zope.interface', 'demo_lib', 'x-y.z_1']) assert.ok(isValidName(ok), ok)
  for (const bad of ['', '-a', 'a-', '.a', 'a b', '../etc', 'a/b', 'naïve', 'a\u0000', 'x'.repeat(201)]) assert.not.ok(isValidName(bad), bad)
})

const Versions = suite('pypi versions (PEP 440)')

Versions('normalises as packaging does', () => {
  assert.is(normalizeVersion('1.0'), '1.0')
  assert.is(normalizeVersion('v1.0.0-RC1'), '1.0.0rc1')
  assert.is(normalizeVersion('1.0alpha2'), '1.0a2')
  assert.is(normalizeVersion('1.0-1'), '1.0.post1')
  assert.is(normalizeVersion('1.0.dev'), '1.0.dev0')
  assert.is(normalizeVersion('1!2.0+Ubuntu-1'), '1!2.0+ubuntu.1')
  assert.is(normalizeVersion('1.0.0.preview3'), '1.0.0rc3')
  assert.is(normalizeVersion('not a version'), null)
  assert.is(normalizeVersion('1.0/../x'), null)
})

Versions('canonical forms drop trailing zeros', () => {
  assert.is(canonicalVersion('1.0.0'), '1')
  assert.is(canonicalVersion('1.0'), canonicalVersion('1.0.0'))
  assert.is.not(canonicalVersion('1.0.1'), canonicalVersion('1.0'))
  assert.is(canonicalVersion('2.0.0rc1'), '2rc1')
})

Versions('orders as PEP 440 says', () => {
  const sorted = ['1.0.dev1', '1.0a1', '1.0a2.dev1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0+local', '1.0.post1.dev1', '1.0.post1', '1.1', '1!0.5']
  const shuffled = [...sorted].reverse()
  assert.equal(shuffled.sort(compareVersions), sorted)
  assert.is(compareVersions('1.0', '1.0.0'), 0)
  assert.ok(compareVersions('1.10', '1.9') > 0)
})

Versions('pre-releases are pre and dev releases', () => {
  assert.ok(isPrerelease('2.0.0rc1'))
  assert.ok(isPrerelease('1.0.dev3'))
  assert.not.ok(isPrerelease('1.0.post1'))
  assert.not.ok(isPrerelease('1.0'))
})

const Files = suite('pypi distribution file names')

Files('parses wheels (PEP 427), with and without a build tag', () => {
  assert.equal(parseDistributionFilename('demo_lib-1.0.0-py3-none-any.whl'), {
    kind: 'wheel', name: 'demo_lib', version: '1.0.0', filetype: 'bdist_wheel', pyversion: 'py3', abi: 'none', platform: 'any',
  })
  const built = parseDistributionFilename('numpy-1.26.4-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl')!
  assert.is(built.buildTag, '1')
  assert.is(built.platform, 'manylinux_2_17_x86_64.manylinux2014_x86_64')
  assert.is(parseDistributionFilename('demo_lib-1.0.0-x-py3-none-any.whl'), null)
  assert.is(parseDistributionFilename('demo_lib-py3-none-any.whl'), null)
})

Files('parses sdists, legacy hyphenated names included', () => {
  assert.equal(parseDistributionFilename('demo_lib-1.0.0.tar.gz'), { kind: 'sdist', name: 'demo_lib', version: '1.0.0', filetype: 'sdist', pyversion: 'source' })
  assert.is(parseDistributionFilename('python-dateutil-2.8.2.tar.gz')!.name, 'python-dateutil')
  assert.is(parseDistributionFilename('python-dateutil-2.8.2.tar.gz', 'python_dateutil')!.version, '2.8.2')
  assert.is(parseDistributionFilename('foo-1.0.zip')!.version, '1.0')
  assert.is(parseDistributionFilename('foo-1.0.egg'), null)
  assert.is(parseDistributionFilename('foo-1.0.tar.bz2'), null)
  assert.is(parseDistributionFilename('foo-1.0.tar.gz', 'bar'), null)
})

Files('refuses unsafe file names before parsing', () => {
  for (const bad of ['../x-1.0.tar.gz', 'a/b-1.0.tar.gz', 'x-1.0.tar.gz\u0000', '.x-1.0.tar.gz', 'x..y-1.0.tar.gz', `${'x'.repeat(250)}-1.0.tar.gz`]) {
    assert.not.ok(isSafeFilename(bad), bad)
    assert.is(parseDistributionFilename(bad), null)
  }
  assert.ok(isSafeFilename('foo-1!2.0.tar.gz'))
})

Names.run()
Versions.run()
Files.run()
