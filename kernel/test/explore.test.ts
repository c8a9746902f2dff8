import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineRegistryPlugin, type UpstreamSearchHit } from '@batlehub/sdk'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import type { FakeUpstream } from '@batlehub/sdk/testing'
import { BetaChannelMember, BlockedPackage, LocalPackage, LocalVersion, NamespaceClaim, PackageStatus } from '../src/db/entities.ts'
import { EXPLORE_TTL_MS } from '../src/explore/cache.ts'

const MIN = 60_000
const DAY = 24 * 60 * MIN
const ADMIN = 'explore-admin-token-0123456789'
const USER = 'explore-user-token-0123456789'
const FRONTEND = 'explore-frontend-token-0123456789'
const BETA = 'explore-beta-token-0123456789'

/**
 * A registry plugin whose upstream search speaks npm's `/-/v1/search` over the kernel's upstream
 * HTTP (so `search_url`, timeouts and failures are real), and whose names are case-insensitive.
 */
const searchable = defineRegistryPlugin({
  id: 'searchable',
  capabilities: { proxy: true, publish: true, search: true, yank: true },
  setup(ctx) {
    return {
      normalizeName: (name) => name.toLowerCase(),
      async searchUpstream(query, { limit, signal }): Promise<UpstreamSearchHit[]> {
        const path = `/-/v1/search?text=${encodeURIComponent(query)}&size=${limit}`
        const res = await ctx.http.request(ctx.registry.searchUrl ? { url: `${ctx.registry.searchUrl}${path}`, signal } : { path, signal })
        if (res.status !== 200) {
          res.dispose()
          throw new Error(`search answered ${res.status}`)
        }
        const body = await res.json<{ objects: Array<{ package: { name: string; version: string; description?: string } }> }>()
        return body.objects.map((o) => ({ name: o.package.name, latestVersion: o.package.version, description: o.package.description }))
      },
    }
  },
})

function searchResponse(names: string[]): string {
  return JSON.stringify({ objects: names.map((name) => ({ package: { name, version: '1.0.0', description: `about ${name}` } })) })
}

interface Ctx {
  hub: KernelTestHandle
  up: FakeUpstream
  down: FakeUpstream
}

for (const dialect of testDialects()) {
  const Explore = suite<Ctx>(`explore API (${dialect})`)

  Explore.before.each(async (t) => {
    t.up = await fakeUpstream()
    t.up.route('GET /-/v1/search?text=lod&size=10', { body: searchResponse(['lodash', 'lodash-es', 'lodash.merge']), headers: { 'content-type': 'application/json' } })
    t.up.route('GET /-/v1/search?text=lod&size=1', { body: searchResponse(['lodash']), headers: { 'content-type': 'application/json' } })
    // A second upstream that fails: its registry contributes nothing, the others still answer.
    t.down = await fakeUpstream({ 'GET /-/v1/search?text=lod&size=10': { status: 500, body: 'boom' } })
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [searchable],
      config: {
        server: { upstream_timeout_secs: 2 },
        auth: [{ type: 'token', tokens: [
          { value: ADMIN, role: 'admin', user_id: 'root' },
          { value: USER, role: 'user', user_id: 'alice' },
          { value: FRONTEND, role: 'user', user_id: 'bob', groups: ['oidc:frontend'] },
          { value: BETA, role: 'user', user_id: 'tess' },
        ] }],
        registries: [
          { name: 'npm', type: 'searchable', upstreams: [t.up.url] },
          { name: 'internal', type: 'searchable', mode: 'hybrid', upstreams: [t.up.url], beta_channel: { enabled: true } },
          { name: 'broken', type: 'searchable', upstreams: [t.down.url] },
          { name: 'nosearch', type: 'searchable', upstreams: [t.up.url], search_url: '' },
          { name: 'private', type: 'searchable', mode: 'local' },
          // Users may download but not browse (seed: CI tokens that must not enumerate).
          { name: 'ci', type: 'searchable', upstreams: [t.up.url], rbac: { anonymous: ['releases:read'], user: ['releases:read'], admin: ['*'], explore: { anonymous: false, user: false } } },
          // Explore flags cannot widen proxy access: users have no releases:read here.
          { name: 'adminonly', type: 'searchable', upstreams: [t.up.url], rbac: { admin: ['*'], explore: { user: true } } },
        ],
      },
    })
    const now = t.hub.clock.now()
    const em = t.hub.kernel.db.em()
    const status = (registry: string, name: string, version: string, downloads: number, lastAccessAgo: number | null) =>
      em.create(PackageStatus, {
        registry, packageName: name, packageVersion: version, downloadCount: downloads,
        firstSeenAt: new Date(now - 30 * DAY), lastAccessedAt: lastAccessAgo === null ? null : new Date(now - lastAccessAgo),
      })
    status('npm', 'lodash', '4.17.21', 500, 5 * MIN)
    status('npm', 'lodash', '4.17.20', 80, DAY)
    status('npm', 'lodash', '5.0.0-beta.1', 3, 2 * DAY)
    status('npm', 'react', '18.3.1', 900, 3 * DAY)
    status('npm', '@types/node', '22.1.0', 40, MIN)
    status('npm', '100%_real', '1.0.0', 1, null)
    status('npm', '100xreal', '1.0.0', 1, null)
    status('ci', 'secret', '1.0.0', 7, MIN)
    status('adminonly', 'tool', '1.0.0', 1, MIN)
    em.create(BlockedPackage, { registry: 'npm', packageName: 'lodash', version: '4.17.20', reason: 'CVE-2021-12345', blockedBy: 'admin', blockedAt: new Date(now - 2 * DAY) })
    const local = (registry: string, name: string, visibility = 'public') =>
      em.create(LocalPackage, { registry, name, normalizedName: name.toLowerCase(), visibility, createdAt: new Date(now - 10 * DAY), updatedAt: new Date(now - DAY) })
    const kit = local('internal', 'Acme-Kit')
    em.create(LocalVersion, { package: kit, version: '1.0.0', prerelease: false, publishedAt: new Date(now - 10 * DAY), yanked: false })
    em.create(LocalVersion, { package: kit, version: '1.1.0', prerelease: false, publishedAt: new Date(now - 5 * DAY), yanked: true, yankReason: 'broken build' })
    em.create(LocalVersion, { package: kit, version: '2.0.0-rc.1', prerelease: true, publishedAt: new Date(now - DAY), yanked: false })
    // Downloads of a hosted version counted in package_statuses do not make it "both".
    status('internal', 'Acme-Kit', '1.0.0', 12, 2 * MIN)
    const both = local('internal', 'lodash')
    em.create(LocalVersion, { package: both, version: '4.17.22-acme.1', prerelease: true, publishedAt: new Date(now - 3 * DAY), yanked: false })
    status('internal', 'lodash', '4.17.21', 9, 10 * MIN)
    const secretPkg = local('private', 'payroll', 'internal')
    em.create(LocalVersion, { package: secretPkg, version: '1.0.0', prerelease: false, publishedAt: new Date(now - DAY), yanked: false })
    const teamPkg = local('private', 'frontend-utils', 'team')
    em.create(LocalVersion, { package: teamPkg, version: '0.1.0', prerelease: false, publishedAt: new Date(now - DAY), yanked: false })
    em.create(NamespaceClaim, { registry: 'private', prefix: 'frontend-', groupId: 'oidc:frontend', claimedBy: 'root' })
    em.create(BetaChannelMember, { registry: 'internal', principalType: 'user', principalId: 'tess', addedBy: 'root' })
    await em.flush()
  })

  Explore.after.each(async (t) => {
    await t.hub.close()
    await t.up.close()
    await t.down.close()
  })

  const get = async (hub: KernelTestHandle, path: string, token?: string) => {
    const res = await hub.request('GET', path, { token })
    assert.is(res.status, 200, `${path}: ${res.text()}`)
    return res.json()
  }

  /** A real database outage for the explorer: its main table goes away (and comes back). */
  const outage = async (hub: KernelTestHandle, on: boolean) => {
    const db = hub.kernel.db
    const q = db.dialect === 'postgresql' && db.schema ? `"${db.schema}".` : ''
    await db.execute(on ? `alter table ${q}"package_statuses" rename to "package_statuses_down"` : `alter table ${q}"package_statuses_down" rename to "package_statuses"`)
  }

  Explore('the catalog merges proxied and local packages into one row each, most downloaded first', async ({ hub }) => {
    const body = await get(hub, '/api/v1/explore/packages', ADMIN)
    assert.equal(Object.keys(body).sort(), ['items', 'page', 'per_page', 'total', 'upstream_unavailable'])
    assert.is(body.total, 11)
    assert.is(body.page, 0)
    assert.is(body.per_page, 20)
    assert.is(body.upstream_unavailable, false)
    assert.equal(body.items.slice(0, 3).map((i: any) => `${i.registry}/${i.name}`), ['npm/react', 'npm/lodash', 'npm/@types/node'])
    const lodash = body.items.find((i: any) => i.registry === 'npm' && i.name === 'lodash')
    assert.equal(lodash, {
      registry: 'npm', name: 'lodash', version_count: 3, total_downloads: 583,
      last_accessed: new Date(hub.clock.now() - 5 * MIN).toISOString(), source: 'proxied', has_blocked: true,
    })
    const kit = body.items.find((i: any) => i.name === 'Acme-Kit')
    assert.equal([kit.source, kit.version_count, kit.total_downloads, kit.has_blocked], ['local', 3, 12, false])
    const both = body.items.find((i: any) => i.registry === 'internal' && i.name === 'lodash')
    assert.equal([both.source, both.version_count, both.total_downloads], ['both', 2, 9])
    const payroll = body.items.find((i: any) => i.name === 'payroll')
    assert.equal([payroll.source, payroll.last_accessed, payroll.total_downloads], ['local', null, 0])
  })

  Explore('name filters by case-insensitive substring (wildcards are literal), sorts and pages', async ({ hub }) => {
    const lod = await get(hub, '/api/v1/explore/packages?name=LOD', ADMIN)
    assert.equal(lod.items.map((i: any) => `${i.registry}/${i.name}`), ['npm/lodash', 'internal/lodash'])
    const pct = await get(hub, `/api/v1/explore/packages?name=${encodeURIComponent('0%_')}`, ADMIN)
    assert.equal(pct.items.map((i: any) => i.name), ['100%_real'])
    const byName = await get(hub, '/api/v1/explore/packages?registry=npm&sort=name', ADMIN)
    // Byte order on both dialects, whatever the database's collation.
    assert.equal(byName.items.map((i: any) => i.name), ['100%_real', '100xreal', '@types/node', 'lodash', 'react'])
    const recent = await get(hub, '/api/v1/explore/packages?registry=npm&sort=recent', ADMIN)
    assert.equal(recent.items.map((i: any) => i.name), ['@types/node', 'lodash', 'react', '100%_real', '100xreal'])
    const page1 = await get(hub, '/api/v1/explore/packages?registry=npm&sort=name&per_page=2&page=1', ADMIN)
    assert.equal([page1.total, page1.page, page1.per_page], [5, 1, 2])
    assert.equal(page1.items.map((i: any) => i.name), ['@types/node', 'lodash'])
    const beyond = await get(hub, '/api/v1/explore/packages?registry=npm&page=9', ADMIN)
    assert.equal([beyond.items.length, beyond.total], [0, 5])
    for (const bad of ['sort=size', 'per_page=0', 'per_page=500', 'page=-1']) {
      const res = await hub.request('GET', `/api/v1/explore/packages?${bad}`, { token: ADMIN })
      assert.is(res.status, 400, bad)
      assert.is(res.json().code, 'BH_INPUT')
    }
  })

  Explore('registry statistics list only registries with packages, with their download totals', async ({ hub }) => {
    const body = await get(hub, '/api/v1/explore/registries', ADMIN)
    assert.equal(body, {
      registries: [
        { registry: 'adminonly', package_count: 1, total_downloads: 1 },
        { registry: 'ci', package_count: 1, total_downloads: 7 },
        { registry: 'internal', package_count: 2, total_downloads: 21 },
        { registry: 'npm', package_count: 5, total_downloads: 1525 },
        { registry: 'private', package_count: 2, total_downloads: 0 },
      ],
      upstream_unavailable: false,
    })
  })

  Explore('explore access is proxy access AND the role\'s explore flag, for every endpoint', async ({ hub }) => {
    const regs = async (token?: string) => (await get(hub, '/api/v1/explore/registries', token)).registries.map((r: any) => r.registry)
    // Anonymous: proxy registries only (local/hybrid registries default to no anonymous access), minus `ci`.
    assert.equal(await regs(), ['npm'])
    assert.equal(await regs(USER), ['internal', 'npm', 'private'])
    assert.equal(await regs(ADMIN), ['adminonly', 'ci', 'internal', 'npm', 'private'])
    const userCatalog = await get(hub, '/api/v1/explore/packages?per_page=100', USER)
    assert.not.ok(userCatalog.items.some((i: any) => ['ci', 'adminonly'].includes(i.registry)))
    const filtered = await get(hub, '/api/v1/explore/packages?registry=ci', USER)
    assert.equal([filtered.items, filtered.total], [[], 0])
    assert.is((await hub.request('GET', '/api/v1/explore/packages/ci/secret', { token: USER })).status, 404)
    assert.is((await hub.request('GET', '/api/v1/explore/packages/adminonly/tool', { token: USER })).status, 404)
    assert.is((await hub.request('GET', '/api/v1/explore/packages/ci/secret', { token: ADMIN })).status, 200)
    // Proxy access to `ci` stays: only browsing is refused.
    const who = await get(hub, '/api/v1/auth/whoami', USER)
    assert.equal(who.explorable_registries, ['npm', 'internal', 'broken', 'nosearch', 'private'])
  })

  Explore('hosted packages follow their visibility: internal for users, team for the owning group', async ({ hub }) => {
    const names = async (token?: string) => (await get(hub, '/api/v1/explore/packages?registry=private', token)).items.map((i: any) => i.name).sort()
    assert.equal(await names(USER), ['payroll'])
    assert.equal(await names(FRONTEND), ['frontend-utils', 'payroll'])
    assert.equal(await names(ADMIN), ['frontend-utils', 'payroll'])
    assert.is((await hub.request('GET', '/api/v1/explore/packages/private/frontend-utils', { token: USER })).status, 404)
    assert.is((await hub.request('GET', '/api/v1/explore/packages/private/frontend-utils', { token: FRONTEND })).status, 200)
  })

  Explore('package detail: versions newest first with source, firewall, downloads, dates and the gate', async ({ hub }) => {
    const body = await get(hub, '/api/v1/explore/packages/npm/lodash', USER)
    assert.equal(Object.keys(body).sort(), ['gate', 'name', 'registry', 'upstream_unavailable', 'versions'])
    assert.equal(body.gate, { registry_accessible: true, beta_member: true, beta_channel_enabled: false })
    assert.equal(body.versions.map((v: any) => v.version), ['5.0.0-beta.1', '4.17.21', '4.17.20'])
    assert.equal(body.versions[1], {
      version: '4.17.21', source: 'proxied', firewall: { status: 'clear' }, download_count: 500,
      last_accessed: new Date(hub.clock.now() - 5 * MIN).toISOString(), published_at: null, is_prerelease: false,
    })
    assert.equal(body.versions[2].firewall, { status: 'blocked', reason: 'CVE-2021-12345', blocked_by: 'admin', blocked_at: new Date(hub.clock.now() - 2 * DAY).toISOString() })
    assert.is(body.versions[0].is_prerelease, true)
    // Scoped names: raw slash or percent-encoded.
    assert.is((await get(hub, '/api/v1/explore/packages/npm/@types/node', USER)).name, '@types/node')
    assert.is((await get(hub, '/api/v1/explore/packages/npm/%40types%2Fnode', USER)).name, '@types/node')
    assert.is((await hub.request('GET', '/api/v1/explore/packages/npm/nothing-here', { token: USER })).status, 404)
    assert.is((await hub.request('GET', '/api/v1/explore/packages/nope/lodash', { token: ADMIN })).status, 404)
  })

  Explore('hosted versions: published time, yanked status, and lookup by normalised name', async ({ hub }) => {
    const body = await get(hub, '/api/v1/explore/packages/internal/acme-kit', BETA)
    assert.is(body.name, 'Acme-Kit')
    assert.equal(body.versions.map((v: any) => [v.version, v.source, v.firewall.status, v.download_count]), [
      ['2.0.0-rc.1', 'local', 'clear', 0],
      ['1.1.0', 'local', 'yanked', 0],
      ['1.0.0', 'local', 'clear', 12],
    ])
    assert.is(body.versions[2].published_at, new Date(hub.clock.now() - 10 * DAY).toISOString())
    const both = await get(hub, '/api/v1/explore/packages/internal/lodash', BETA)
    assert.equal(both.versions.map((v: any) => `${v.version}:${v.source}`), ['4.17.22-acme.1:local', '4.17.21:proxied'])
  })

  Explore('a beta channel hides pre-releases from non-members; members and admins see them', async ({ hub }) => {
    const user = await get(hub, '/api/v1/explore/packages/internal/Acme-Kit', USER)
    assert.equal(user.gate, { registry_accessible: true, beta_member: false, beta_channel_enabled: true })
    assert.equal(user.versions.map((v: any) => v.version), ['1.1.0', '1.0.0'])
    const member = await get(hub, '/api/v1/explore/packages/internal/Acme-Kit', BETA)
    assert.is(member.gate.beta_member, true)
    assert.is(member.versions.length, 3)
    assert.is((await get(hub, '/api/v1/explore/packages/internal/Acme-Kit', ADMIN)).versions.length, 3)
  })

  Explore('results are cached for 10 minutes; a publish or an admin flush clears one registry', async ({ hub }) => {
    const count = async (registry: string) => (await get(hub, `/api/v1/explore/packages?registry=${registry}`, ADMIN)).total
    assert.is(await count('npm'), 5)
    assert.is(await count('internal'), 2)
    const em = hub.kernel.db.em()
    const now = new Date(hub.clock.now())
    em.create(PackageStatus, { registry: 'npm', packageName: 'vue', packageVersion: '3.0.0', downloadCount: 1, firstSeenAt: now, lastAccessedAt: now })
    em.create(PackageStatus, { registry: 'internal', packageName: 'vue', packageVersion: '3.0.0', downloadCount: 1, firstSeenAt: now, lastAccessedAt: now })
    await em.flush()
    // Seed: a first proxy download does not invalidate; the TTL brings it in.
    assert.is(await count('npm'), 5)
    hub.clock.advance(EXPLORE_TTL_MS - 1000)
    assert.is(await count('npm'), 5)
    hub.clock.advance(2000)
    assert.is(await count('npm'), 6)
    // A publish clears only its registry's entries.
    assert.is(await count('internal'), 3)
    em.create(PackageStatus, { registry: 'npm', packageName: 'angular', packageVersion: '17.0.0', downloadCount: 1, firstSeenAt: now, lastAccessedAt: now })
    em.create(PackageStatus, { registry: 'internal', packageName: 'angular', packageVersion: '17.0.0', downloadCount: 1, firstSeenAt: now, lastAccessedAt: now })
    await em.flush()
    hub.kernel.bus.emit('core:package.published', { registry: 'internal', name: 'x', version: '1.0.0', actor: { subject: 'token:root', userId: 'root', role: 'admin' }, at: now.toISOString() })
    assert.is(await count('internal'), 4)
    assert.is(await count('npm'), 6)
    // The admin flush: 401 anonymous, 403 users, then per registry or everything.
    assert.is((await hub.request('POST', '/api/v1/admin/explore/invalidate', { body: {} })).status, 401)
    assert.is((await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: USER, body: {} })).status, 403)
    const res = await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: { registry: 'internal' } })
    assert.equal([res.status, res.json()], [200, { ok: true }])
    assert.is(await count('npm'), 6)
    const all = await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: {} })
    assert.equal([all.status, all.json()], [200, { ok: true }])
    assert.is(await count('npm'), 7)
    const bad = await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: { registry: 'npm', extra: 1 } })
    assert.is(bad.status, 400)
  })

  Explore('blocking and unblocking through the policy API clears the cached firewall state', async ({ hub }) => {
    const react = async () => (await get(hub, '/api/v1/explore/packages?registry=npm&name=react', ADMIN)).items[0].has_blocked
    const detail = async () => (await get(hub, '/api/v1/explore/packages/npm/react', ADMIN)).versions[0].firewall.status
    assert.equal([await react(), await detail()], [false, 'clear'])
    const block = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'npm', name: 'react', version: '18.3.1', reason: 'review' } })
    assert.is(block.status, 200, block.text())
    assert.equal([await react(), await detail()], [true, 'blocked'])
    await hub.request('POST', '/api/v1/admin/packages/unblock', { token: ADMIN, body: { registry: 'npm', name: 'react', version: '18.3.1' } })
    assert.equal([await react(), await detail()], [false, 'clear'])
  })

  Explore('when the database fails, expired entries are served; without one the answer says so', async ({ hub }) => {
    const cached = await get(hub, '/api/v1/explore/packages?registry=npm', ADMIN)
    const stats = await get(hub, '/api/v1/explore/registries', ADMIN)
    const detail = await get(hub, '/api/v1/explore/packages/npm/lodash', ADMIN)
    hub.clock.advance(EXPLORE_TTL_MS + 1000)
    await outage(hub, true)
    try {
      assert.equal(await get(hub, '/api/v1/explore/packages?registry=npm', ADMIN), cached)
      assert.equal(await get(hub, '/api/v1/explore/registries', ADMIN), stats)
      assert.equal(await get(hub, '/api/v1/explore/packages/npm/lodash', ADMIN), detail)
      assert.equal(await get(hub, '/api/v1/explore/packages?registry=npm&sort=name', ADMIN), {
        items: [], total: 0, page: 0, per_page: 20, upstream_unavailable: true,
      })
      const unseen = await get(hub, '/api/v1/explore/packages/npm/react', ADMIN)
      assert.equal([unseen.versions, unseen.upstream_unavailable], [[], true])
      // A flush during the outage leaves nothing stale to serve.
      await hub.request('POST', '/api/v1/admin/explore/invalidate', { token: ADMIN, body: { registry: 'npm' } })
      assert.is((await get(hub, '/api/v1/explore/packages?registry=npm', ADMIN)).upstream_unavailable, true)
    } finally {
      await outage(hub, false)
    }
    const back = await get(hub, '/api/v1/explore/packages?registry=npm', ADMIN)
    assert.equal([back.total, back.upstream_unavailable], [5, false])
  })

  Explore('upstream search: explorable registries with search only, failures swallowed, cached ones marked', async ({ hub, up }) => {
    const body = await get(hub, '/api/v1/explore/upstream?name=lod', USER)
    // npm and internal share the fixture upstream; broken fails; nosearch has search_url = "";
    // private is local; ci and adminonly are not explorable for users.
    assert.equal(body.items.map((i: any) => `${i.registry}/${i.name}:${i.already_cached}`), [
      'npm/lodash:true', 'npm/lodash-es:false', 'npm/lodash.merge:false',
      'internal/lodash:true', 'internal/lodash-es:false', 'internal/lodash.merge:false',
    ])
    assert.equal(body.items[1], { registry: 'npm', name: 'lodash-es', latest_version: '1.0.0', description: 'about lodash-es', already_cached: false })
    const one = await get(hub, '/api/v1/explore/upstream?name=lod&registry=npm&limit=1', USER)
    assert.equal(one.items.map((i: any) => i.name), ['lodash'])
    // Never cached: every call reaches the upstream.
    const before = up.paths.length
    await get(hub, '/api/v1/explore/upstream?name=lod&registry=npm', USER)
    assert.is(up.paths.length, before + 1)
    assert.is((await hub.request('GET', '/api/v1/explore/upstream', { token: USER })).status, 400)
    assert.is((await hub.request('GET', '/api/v1/explore/upstream?name=lod&limit=51', { token: USER })).status, 400)
    assert.equal((await get(hub, '/api/v1/explore/upstream?name=lod&registry=ci', USER)).items, [])
  })

  Explore('a hanging upstream search is cut off and does not hold the others back', async ({ hub, down }) => {
    down.route('GET /-/v1/search?text=lod&size=10', () => { /* never answers */ })
    const started = Date.now()
    const body = await get(hub, '/api/v1/explore/upstream?name=lod', ADMIN)
    assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`)
    assert.ok(body.items.some((i: any) => i.registry === 'npm'))
    assert.not.ok(body.items.some((i: any) => i.registry === 'broken'))
  })

  Explore.run()
}
