/**
 * The policy engine with the real npm client, through proxy registries: an age-gated newest
 * version makes `npm install` pick the previous one; a blocked version is refused with 403 on
 * direct download; deny_latest refuses `npm install pkg@latest` but not an exact version; a
 * rate-limited npm gets 429 with Retry-After.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import npm from '../plugins/registry-npm/src/index.ts'
import { startFixtureRegistry, type FixturePackage, type FixtureRegistry } from '../plugins/registry-npm/test/support/fixtures.ts'
import { createSandbox, type ClientSandbox } from '../plugins/registry-npm/test/support/clients.ts'

const ADMIN = 'admin-token-e2e-npm-0123456789'
const INSTALL = ['install', '--no-audit', '--no-fund']

function packages(now: number): FixturePackage[] {
  const ago = (ms: number) => new Date(now - ms).toISOString()
  return [{
    name: 'fixture-c',
    versions: [
      { version: '1.0.0', time: ago(60 * 86_400_000) },
      { version: '1.1.0', time: ago(30 * 86_400_000) },
      // Ten minutes old: inside the one-hour gate.
      { version: '1.2.0', time: ago(10 * 60_000) },
    ],
    distTags: { latest: '1.2.0' },
  }]
}

function installed(sandbox: ClientSandbox, name: string): string | undefined {
  const file = join(sandbox.project, 'node_modules', name, 'package.json')
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined
}

const show = (r: { code: number; stdout: string; stderr: string }) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`

interface Ctx { hub: TestKernel; upstream: FixtureRegistry; gated: ClientSandbox; pinned: ClientSandbox }

const Npm = suite<Ctx>('policy e2e: npm')
Npm.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(packages(Date.now()))
  t.hub = await createTestKernel({
    plugins: [npm],
    config: {
      auth: [{ type: 'token', tokens: [{ value: ADMIN, role: 'admin', user_id: 'root' }] }],
      registries: [
        { name: 'npm', type: 'npm', upstreams: [t.upstream.url], rules: [{ kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] }] },
        { name: 'pinned', type: 'npm', upstreams: [t.upstream.url], rules: [{ kind: 'deny_latest', bypass_roles: ['admin'] }] },
      ],
    },
  })
  t.gated = createSandbox(`${t.hub.url}/proxy/npm/`)
  t.pinned = createSandbox(`${t.hub.url}/proxy/pinned/`)
})
Npm.after.each(async (t) => {
  t.gated.cleanup()
  t.pinned.cleanup()
  await t.hub.close()
  await t.upstream.close()
})

Npm('an age-gated newest version makes npm install pick the previous one; blocked versions get 403', async ({ hub, gated }) => {
  gated.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'fixture-c': '^1.0.0' } })
  const run = await gated.run('npm', INSTALL)
  assert.is(run.code, 0, show(run))
  assert.is(installed(gated, 'fixture-c'), '1.1.0')
  // `npm install fixture-c` (latest) also lands on the previous version: dist-tags.latest moved.
  const add = await gated.run('npm', [...INSTALL, 'fixture-c'])
  assert.is(add.code, 0, show(add))
  assert.is(installed(gated, 'fixture-c'), '1.1.0')
  const packument = await hub.request('GET', '/proxy/npm/fixture-c', { headers: { accept: 'application/vnd.npm.install-v1+json' } })
  const doc = packument.json()
  assert.equal([Object.keys(doc.versions), doc['dist-tags']], [['1.0.0', '1.1.0'], { latest: '1.1.0' }])
  const forAdmin = await hub.request('GET', '/proxy/npm/fixture-c', { token: ADMIN, headers: { accept: 'application/vnd.npm.install-v1+json' } })
  assert.equal(forAdmin.json()['dist-tags'], { latest: '1.2.0' })
  // The gated tarball itself is refused, in npm's error format.
  const tarball = await hub.request('GET', '/proxy/npm/fixture-c/-/fixture-c-1.2.0.tgz')
  assert.is(tarball.status, 403)
  assert.match(tarball.json().error, /release_age_gate/)

  // Block the installed version: its tarball is refused to everyone, and a new resolution moves on.
  const block = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'npm', name: 'fixture-c', version: '1.1.0', reason: 'malware' } })
  assert.is(block.status, 200, block.text())
  for (const token of [undefined, ADMIN]) {
    const res = await hub.request('GET', '/proxy/npm/fixture-c/-/fixture-c-1.1.0.tgz', { token })
    assert.is(res.status, 403)
    assert.match(res.json().error, /version 1\.1\.0 of fixture-c is blocked on this registry: malware/)
  }
  gated.clearClientState()
  // `npm install fixture-c` saved ^1.1.0, which now matches nothing allowed: back to ^1.0.0.
  const pinnedToBlocked = await gated.run('npm', INSTALL)
  assert.is.not(pinnedToBlocked.code, 0, show(pinnedToBlocked))
  assert.match(pinnedToBlocked.stderr, /No matching version found for fixture-c@\^1\.1\.0/)
  gated.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'fixture-c': '^1.0.0' } })
  gated.clearClientState()
  const again = await gated.run('npm', INSTALL)
  assert.is(again.code, 0, show(again))
  assert.is(installed(gated, 'fixture-c'), '1.0.0')
  // Time passes: 1.2.0 becomes old enough.
  hub.clock.advance(3600_000)
  gated.clearClientState()
  const later = await gated.run('npm', INSTALL)
  assert.is(later.code, 0, show(later))
  assert.is(installed(gated, 'fixture-c'), '1.2.0')
})

Npm('deny_latest refuses npm install pkg@latest but not an exact version or a range', async ({ hub, pinned }) => {
  pinned.writeProject({ name: 'consumer', version: '1.0.0', private: true })
  const latest = await pinned.run('npm', [...INSTALL, 'fixture-c@latest'])
  assert.is.not(latest.code, 0, show(latest))
  assert.match(latest.stderr, /No matching version found for fixture-c@latest|ETARGET/)
  const exact = await pinned.run('npm', [...INSTALL, 'fixture-c@1.1.0'])
  assert.is(exact.code, 0, show(exact))
  assert.is(installed(pinned, 'fixture-c'), '1.1.0')
  const range = await pinned.run('npm', [...INSTALL, 'fixture-c@^1.0.0'])
  assert.is(range.code, 0, show(range))
  assert.is(installed(pinned, 'fixture-c'), '1.2.0')
  // The version-document endpoint refuses the tag itself.
  const doc = await hub.request('GET', '/proxy/pinned/fixture-c/latest')
  assert.is(doc.status, 403)
  assert.is((await hub.request('GET', '/proxy/pinned/fixture-c/1.1.0')).status, 200)
  assert.is((await hub.request('GET', '/proxy/pinned/fixture-c/latest', { token: ADMIN })).json().version, '1.2.0')
})
Npm.run()

const Limited = suite<{ hub: TestKernel; upstream: FixtureRegistry; sandbox: ClientSandbox }>('policy e2e: npm rate limited')
Limited.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(packages(Date.now()))
  t.hub = await createTestKernel({
    plugins: [npm],
    config: {
      registries: [{ name: 'npm', type: 'npm', upstreams: [t.upstream.url] }],
      rate_limit: { enabled: true, window_secs: 3600, limits: { anonymous: 1 } },
    },
  })
  t.hub.clock.set(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 60_000)
  t.sandbox = createSandbox(`${t.hub.url}/proxy/npm/`)
})
Limited.after.each(async (t) => {
  t.sandbox.cleanup()
  await t.hub.close()
  await t.upstream.close()
})
Limited('npm over its budget gets 429 with Retry-After', async ({ hub, sandbox }) => {
  sandbox.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'fixture-c': '1.0.0' } })
  const run = await sandbox.run('npm', INSTALL)
  assert.is.not(run.code, 0, show(run))
  assert.match(run.stderr, /429/)
  const res = await hub.request('GET', '/proxy/npm/fixture-c')
  assert.is(res.status, 429)
  assert.is(res.headers['retry-after'], '3540')
  assert.match(res.json().error, /rate limit of 1 request per 3600s exceeded/)
})
Limited.run()
