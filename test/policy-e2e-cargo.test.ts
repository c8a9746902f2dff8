/**
 * The policy engine with the real cargo, through a proxy registry: an age-gated newest version
 * makes `cargo build` pick the previous one; a blocked version is refused with 403 on direct
 * download (in cargo's error format) and breaks a build locked to it; a rate-limited cargo gets 429
 * with Retry-After.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { show } from '../plugins/registry-cargo/test/cargo.ts'
import { makeCrate, type FixtureCrate } from '../plugins/registry-cargo/test/fixtures.ts'
import { startHub, type Hub } from '../plugins/registry-cargo/test/harness.ts'

const ADMIN = 'admin-token-e2e-cargo-0123456789'
/** cargo's `pubtime` form: UTC, whole seconds. */
const pubtime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

function crates(now: number): FixtureCrate[] {
  const at = (agoMs: number, c: FixtureCrate) => {
    c.line.pubtime = pubtime(now - agoMs)
    return c
  }
  return [
    at(90 * 86_400_000, makeCrate({ name: 'fixture-util', version: '0.1.0' })),
    at(30 * 86_400_000, makeCrate({ name: 'fixture-util', version: '0.2.0' })),
    // Published ten minutes ago: inside the one-hour gate.
    at(10 * 60_000, makeCrate({ name: 'fixture-util', version: '0.2.1' })),
  ]
}

function lockedVersion(dir: string, name: string): string | undefined {
  const lock = readFileSync(join(dir, 'Cargo.lock'), 'utf8')
  const m = new RegExp(`name = "${name}"\\nversion = "([^"]+)"`).exec(lock)
  return m?.[1]
}

const Gate = suite<{ hub: Hub }>('policy e2e: cargo')
Gate.before.each(async (t) => {
  t.hub = await startHub({
    crates: crates(Date.now()),
    registries: [{
      name: 'crates', type: 'cargo', upstreams: ['{upstream}'],
      rules: [{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] }],
    }],
    config: { auth: [{ type: 'token', tokens: [{ value: ADMIN, role: 'admin', user_id: 'root' }] }] },
  })
  t.hub.cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${t.hub.index('crates')}"\n`)
})
Gate.after.each(async (t) => {
  await t.hub.close()
})

Gate('an age-gated newest version makes cargo build pick the previous one; a blocked version is refused', async ({ hub }) => {
  const { cargo, kernel } = hub
  const app = cargo.project('app', { deps: [{ name: 'fixture-util', req: '0.2' }], main: 'fn main() { println!("{}", fixture_util::version()); }\n' })
  const run = await cargo.run(['run', '-q'], { cwd: app })
  assert.is(run.code, 0, show(run))
  assert.is(run.stdout.trim(), 'fixture-util 0.2.0')
  assert.is(lockedVersion(app, 'fixture-util'), '0.2.0')
  // The index hides 0.2.1 from anonymous callers; the admin (bypass) still sees it.
  const anon = await kernel.request('GET', '/proxy/crates/registry/fi/xt/fixture-util')
  assert.equal(anon.text().trim().split('\n').map((l) => JSON.parse(l).vers), ['0.1.0', '0.2.0'])
  const admin = await kernel.request('GET', '/proxy/crates/registry/fi/xt/fixture-util', { token: ADMIN })
  assert.equal(admin.text().trim().split('\n').map((l) => JSON.parse(l).vers), ['0.1.0', '0.2.0', '0.2.1'])
  assert.is.not(anon.headers.etag, admin.headers.etag)
  // A direct download of the gated version is refused, in cargo's error format.
  const gated = await kernel.request('GET', '/proxy/crates/registry/dl/fixture-util/0.2.1/download')
  assert.is(gated.status, 403)
  assert.match(gated.json().errors[0].detail, /release_age_gate/)

  // Block the version the build is locked to.
  const block = await kernel.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'crates', name: 'fixture-util', version: '0.2.0', reason: 'compromised' } })
  assert.is(block.status, 200, block.text())
  for (const token of [undefined, ADMIN]) {
    const res = await kernel.request('GET', '/proxy/crates/registry/dl/fixture-util/0.2.0/download', { token })
    assert.is(res.status, 403)
    assert.match(res.json().errors[0].detail, /version 0\.2\.0 of fixture-util is blocked on this registry: compromised/)
  }
  // From a clean cargo home the locked build cannot fetch it.
  cargo.freshHome()
  cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
  const locked = await cargo.run(['build', '-q', '--locked'], { cwd: app })
  assert.is.not(locked.code, 0, show(locked))
  // A fresh resolution moves to the newest allowed version: 0.1.0 does not match "0.2", so it fails
  // to resolve rather than download the blocked or the gated version.
  const relock = await cargo.run(['update'], { cwd: app })
  assert.is.not(relock.code, 0, show(relock))
  assert.match(relock.stderr, /fixture-util/)
  // Time passes: 0.2.1 becomes old enough and cargo resolves to it.
  kernel.clock.advance(3600_000)
  const update = await cargo.run(['update'], { cwd: app })
  assert.is(update.code, 0, show(update))
  assert.is(lockedVersion(app, 'fixture-util'), '0.2.1')
  const later = await cargo.run(['run', '-q'], { cwd: app })
  assert.is(later.code, 0, show(later))
  assert.is(later.stdout.trim(), 'fixture-util 0.2.1')
  const log = (await kernel.request('GET', '/api/v1/admin/audit-log?registry=crates&package=fixture-util&outcome=deny', { token: ADMIN })).json() as any[]
  assert.ok(log.some((e) => e.rule === 'blocklist' && e.version === '0.2.0'))
  assert.ok(log.some((e) => e.rule === 'release_age_gate' && e.version === '0.2.1'))
})
Gate.run()

const Limited = suite<{ hub: Hub }>('policy e2e: cargo rate limited')
Limited.before.each(async (t) => {
  t.hub = await startHub({
    crates: crates(Date.now()),
    registries: [{ name: 'crates', type: 'cargo', upstreams: ['{upstream}'] }],
    config: { rate_limit: { enabled: true, window_secs: 3600, limits: { anonymous: 1 } } },
  })
  t.hub.kernel.clock.set(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 60_000)
})
Limited.after.each(async (t) => {
  await t.hub.close()
})
Limited('cargo over its budget gets 429 with Retry-After', async ({ hub }) => {
  const { cargo, kernel } = hub
  cargo.config(`[source.crates-io]\nreplace-with = "hub"\n\n[source.hub]\nregistry = "${hub.index('crates')}"\n`)
  const app = cargo.project('app', { deps: [{ name: 'fixture-util', req: '0.1' }] })
  const run = await cargo.run(['generate-lockfile'], { cwd: app })
  assert.is.not(run.code, 0, show(run))
  assert.match(run.stderr, /429/)
  const res = await kernel.request('GET', '/proxy/crates/registry/config.json')
  assert.is(res.status, 429)
  assert.is(res.headers['retry-after'], '3540')
  assert.equal([res.headers['x-ratelimit-limit'], res.headers['x-ratelimit-remaining']], ['1', '0'])
  assert.match(res.json().errors[0].detail, /rate limit of 1 request per 3600s exceeded/)
})
Limited.run()
