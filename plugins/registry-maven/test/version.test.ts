import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compareVersions, isPrerelease, isSnapshot, sortVersions } from '../src/version.ts'

const Version = suite('maven version order (ComparableVersion)')

Version('orders qualifiers the way Maven does', () => {
  const ordered = ['1.0-alpha-1', '1.0-alpha-2', '1.0-beta-1', '1.0-milestone-1', '1.0-rc-1', '1.0-SNAPSHOT', '1.0', '1.0-sp-1', '1.0-whatever', '1.0.1', '1.1', '1.10', '2.0.0-beta-1', '2.0.0']
  const shuffled = [...ordered].reverse()
  assert.equal(sortVersions(shuffled), ordered)
})

Version('treats equivalent spellings as equal', () => {
  for (const [a, b] of [['1', '1.0'], ['1.0', '1.0.0'], ['1.0-ga', '1.0'], ['1.0-final', '1'], ['1.0a1', '1.0-alpha-1'], ['1.0-CR1', '1.0-rc1'], ['1.0.RELEASE', '1.0']]) {
    assert.is(compareVersions(a!, b!), 0, `${a} == ${b}`)
  }
})

Version('compares numbers numerically, not lexically', () => {
  assert.ok(compareVersions('1.9', '1.10') < 0)
  assert.ok(compareVersions('1.0.0.9999999999999999999', '1.0.0.10000000000000000000') < 0)
  assert.ok(compareVersions('31.0-jre', '31.1-jre') < 0)
  assert.ok(compareVersions('2.0', '2.0-1') < 0)
})

Version('knows snapshots and pre-releases', () => {
  assert.ok(isSnapshot('1.0-SNAPSHOT'))
  assert.ok(isSnapshot('1.0-20260101.120000-3'))
  assert.not.ok(isSnapshot('1.0'))
  assert.ok(isPrerelease('2.0.0-beta-1'))
  assert.ok(isPrerelease('1.0-RC2'))
  assert.ok(isPrerelease('1.0-M1'))
  assert.ok(isPrerelease('1.0-SNAPSHOT'))
  assert.not.ok(isPrerelease('31.0-jre'))
  assert.not.ok(isPrerelease('1.0-sp-1'))
  assert.not.ok(isPrerelease('1.0.RELEASE'))
})

Version.run()
