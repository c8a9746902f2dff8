import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CompiledRules, isLatestTag, humanDuration } from '../src/policy/rules.ts'
import { UlidFactory, ULID_PATTERN, ulidTime } from '../src/policy/ulid.ts'
import { normalizeIp, isValidIp } from '../src/policy/ip-block.ts'

const HOUR = 3_600_000
const NOW = Date.parse('2026-03-01T12:00:00Z')
const ago = (ms: number) => new Date(NOW - ms).toISOString()

const Rules = suite('policy rules')

Rules('deny_latest refuses exactly "latest" and "@latest", nothing that merely looks like it', () => {
  const rules = new CompiledRules([{ kind: 'deny_latest', bypass_roles: ['admin'] }])
  for (const tag of ['latest', '@latest']) {
    const d = rules.evaluate({ role: 'user', requestedTag: tag, now: NOW })
    assert.is(d.outcome, 'deny', tag)
    assert.is(d.rule, 'deny_latest')
  }
  assert.is(rules.evaluate({ role: 'user', version: 'latest', now: NOW }).outcome, 'deny')
  for (const v of ['Latest', 'LATEST', 'latest ', ' latest', 'latest-1', '1.0.0-latest', 'v1.2.3', '@Latest', 'latest@', '']) {
    assert.is(rules.evaluate({ role: 'user', requestedTag: v, version: v || undefined, now: NOW }).outcome, 'allow', JSON.stringify(v))
  }
  assert.is(rules.evaluate({ role: 'user', version: '1.2.3', now: NOW }).outcome, 'allow')
  const bypassed = rules.evaluate({ role: 'admin', requestedTag: 'latest', now: NOW })
  assert.is(bypassed.outcome, 'allow')
  assert.match(bypassed.reason ?? '', /deny_latest bypassed by role admin/)
  assert.ok(isLatestTag('latest') && isLatestTag('@latest') && !isLatestTag('latest/'))
})

Rules('release_age_gate refuses young versions, lets old ones through, and skips unknown publish times', () => {
  const rules = new CompiledRules([{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] }])
  const young = rules.evaluate({ role: 'user', version: '2.0.0', publishedAt: ago(10 * 60_000), now: NOW })
  assert.is(young.outcome, 'deny')
  assert.is(young.rule, 'release_age_gate')
  assert.match(young.reason ?? '', /published 10m ago/)
  assert.match(young.reason ?? '', /allowed from 2026-03-01T12:50:00.000Z/)
  // Exactly min_age old is old enough; a publish time in the future is young.
  assert.is(rules.evaluate({ role: 'user', version: '1', publishedAt: ago(HOUR), now: NOW }).outcome, 'allow')
  assert.is(rules.evaluate({ role: 'user', version: '1', publishedAt: ago(HOUR - 1), now: NOW }).outcome, 'deny')
  assert.is(rules.evaluate({ role: 'user', version: '1', publishedAt: new Date(NOW + HOUR).toISOString(), now: NOW }).outcome, 'deny')
  const noTime = rules.evaluate({ role: 'user', version: '1.0.0', now: NOW })
  assert.equal([noTime.outcome, noTime.reason], ['allow', 'release_age_gate skipped: no publish time'])
  const badTime = rules.evaluate({ role: 'anonymous', version: '1.0.0', publishedAt: 'yesterday', now: NOW })
  assert.is(badTime.outcome, 'allow')
  assert.match(badTime.reason ?? '', /unparseable publish time "yesterday"/)
  const admin = rules.evaluate({ role: 'admin', version: '2.0.0', publishedAt: ago(1000), now: NOW })
  assert.equal([admin.outcome, admin.reason], ['allow', 'release_age_gate bypassed by role admin'])
})

Rules('several gates: the strictest applying to the role wins; bypass is per gate', () => {
  const rules = new CompiledRules([
    { kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: [] },
    { kind: 'release_age_gate', min_age_secs: 86400, bypass_roles: ['admin'] },
  ])
  assert.is(rules.minAgeFor('user'), 86400_000)
  assert.is(rules.minAgeFor('admin'), 3600_000)
  assert.is(rules.evaluate({ role: 'admin', version: '1', publishedAt: ago(2 * HOUR), now: NOW }).outcome, 'allow')
  assert.is(rules.evaluate({ role: 'user', version: '1', publishedAt: ago(2 * HOUR), now: NOW }).outcome, 'deny')
  assert.is(rules.evaluate({ role: 'admin', version: '1', publishedAt: ago(HOUR / 2), now: NOW }).outcome, 'deny')
  const none = new CompiledRules([])
  assert.is(none.any, false)
  assert.is(none.evaluate({ role: 'anonymous', version: '1', requestedTag: 'latest', publishedAt: ago(0), now: NOW }).reason, null)
})

Rules('durations read well', () => {
  assert.is(humanDuration(0), '0s')
  assert.is(humanDuration(59_000), '59s')
  assert.is(humanDuration(3_661_000), '1h 1m')
  assert.is(humanDuration(90_061_000), '1d 1h')
})

const Ids = suite('policy ulid and addresses')

Ids('ids are 26 Crockford characters, sortable by time, strictly increasing within a millisecond', () => {
  let t = Date.parse('2026-01-01T00:00:00Z')
  const ids = new UlidFactory(() => t)
  const first = ids.next()
  assert.match(first, ULID_PATTERN)
  assert.is(ulidTime(first), t)
  const burst = Array.from({ length: 2000 }, () => ids.next())
  for (let i = 1; i < burst.length; i++) assert.ok(burst[i]! > burst[i - 1]!, `${burst[i]} > ${burst[i - 1]}`)
  t -= 5000 // the clock steps back: ids keep increasing
  const after = ids.next()
  assert.ok(after > burst.at(-1)!)
  t += 60_000
  const later = ids.next()
  assert.ok(later > after)
  assert.is(ulidTime(later), t)
})

Ids('addresses are normalised and validated', () => {
  assert.is(normalizeIp('::ffff:10.1.2.3'), '10.1.2.3')
  assert.is(normalizeIp('2001:DB8::1'), '2001:db8::1')
  assert.is(normalizeIp(' 1.2.3.4 '), '1.2.3.4')
  assert.ok(isValidIp('1.2.3.4') && isValidIp('::1'))
  assert.not.ok(isValidIp('1.2.3.4/24') || isValidIp('example.com') || isValidIp('999.1.1.1'))
})

Rules.run()
Ids.run()
