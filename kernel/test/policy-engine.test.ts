// The policy engine through a mounted registry: rules, blocklist API, version filtering, audit log,
// events and metrics — on SQLite and PostgreSQL.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { CoreEvents } from '@batlehub/sdk'
import { createTestKernel, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { catalogs, policyTestRegistry, renders } from './fixtures/policy/plugin.ts'

const HOUR = 3_600_000
const ADMIN = 'admin-token-policy-0123456789'
const ALICE = 'alice-token-policy-0123456789'

interface Ctx {
  hub: KernelTestHandle
  events: Array<[string, any]>
}

function fillCatalog(registry: string, now: number): void {
  const at = (agoMs: number) => new Date(now - agoMs).toISOString()
  catalogs.set(registry, {
    'left-pad': {
      // Newest first.
      versions: [
        { version: '2.0.0', publishedAt: at(10 * 60_000) }, // 10 minutes old: gated
        { version: '2.0.0-rc.1', publishedAt: at(20 * HOUR), prerelease: true },
        { version: '1.3.0', publishedAt: at(5 * 24 * HOUR) },
        { version: '1.2.0', publishedAt: at(30 * 24 * HOUR) },
        { version: '1.1.0' }, // no publish time
      ],
      tags: { latest: '2.0.0', next: '2.0.0-rc.1', stable: '1.3.0' },
    },
    'old-pkg': {
      versions: [{ version: '3.0.0', publishedAt: at(90 * 24 * HOUR) }, { version: '2.9.0', publishedAt: at(100 * 24 * HOUR) }],
      tags: { latest: '3.0.0' },
    },
  })
}

for (const dialect of testDialects()) {
  const Policy = suite<Ctx>(`policy engine (${dialect})`)

  Policy.before.each(async (t) => {
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [policyTestRegistry],
      config: {
        auth: [{ type: 'token', tokens: [
          { value: ADMIN, role: 'admin', user_id: 'root' },
          { value: ALICE, role: 'user', user_id: 'alice' },
        ] }],
        registries: [
          {
            name: 'gated', type: 'pkgs', upstreams: ['http://127.0.0.1:9'],
            rbac: { anonymous: ['releases:read'], user: ['source:read'], admin: ['*'] },
            rules: [
              { kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] },
              { kind: 'deny_latest', bypass_roles: ['admin'] },
            ],
          },
          { name: 'open', type: 'pkgs', upstreams: ['http://127.0.0.1:9'] },
        ],
      },
    })
    const now = t.hub.clock.now()
    fillCatalog('gated', now)
    fillCatalog('open', now)
    t.events = []
    const bus = t.hub.kernel.bus
    for (const name of ['core:policy.denied', 'core:policy.allowed', 'core:package.blocked', 'core:package.unblocked'] as const) {
      bus.on(name, (payload: CoreEvents[typeof name]) => {
        t.events.push([name, payload])
      })
    }
  })
  Policy.after.each(async (t) => {
    await t.hub.close()
  })

  Policy('release_age_gate: a young version is refused to users, bypassed by admins, skipped without a publish time', async ({ hub }) => {
    const young = await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ALICE })
    assert.is(young.status, 403)
    // The plugin's own error format carries the reason.
    assert.match(young.json().pkgs_error, /version 2.0.0 was published 10m ago; this registry only serves versions older than 1h/)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ADMIN })).status, 200)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0', { token: ALICE })).text(), 'left-pad@1.3.0\n')
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.1.0', { token: ALICE })).status, 200)
    // Registries without rules serve everything.
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad/-/2.0.0')).status, 200)
    // Time passes: the version becomes old enough.
    hub.clock.advance(HOUR)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ALICE })).status, 200)

    const log = await hub.request('GET', '/api/v1/admin/audit-log?registry=gated&package=left-pad&limit=20', { token: ADMIN })
    assert.is(log.status, 200)
    const entries = log.json() as any[]
    const byVersion = (v: string, user: string) => entries.filter((e) => e.version === v && e.user_id === user)
    assert.equal(byVersion('2.0.0', 'alice').map((e) => [e.outcome, e.rule]), [['allow', null], ['deny', 'release_age_gate']])
    assert.is(byVersion('2.0.0', 'root')[0].reason, 'release_age_gate bypassed by role admin')
    assert.is(byVersion('1.1.0', 'alice')[0].reason, 'release_age_gate skipped: no publish time')
    const e = byVersion('2.0.0', 'alice')[1]
    assert.equal(Object.keys(e).sort(), ['action', 'id', 'ip', 'outcome', 'package', 'reason', 'registry', 'role', 'rule', 'timestamp', 'user_id', 'version'])
    assert.equal([e.registry, e.package, e.role, e.action, e.ip], ['gated', 'left-pad', 'user', 'download', '127.0.0.1'])
  })

  Policy('listings hide refused versions and move tags to the previous allowed version; unchanged listings stay untouched', async ({ hub }) => {
    renders.length = 0
    const user = await hub.request('GET', '/proxy/gated/packages/left-pad', { token: ALICE })
    assert.is(user.status, 200)
    assert.equal(user.json(), {
      versions: ['2.0.0-rc.1', '1.3.0', '1.2.0', '1.1.0'],
      // latest removed by deny_latest; next still allowed; stable untouched.
      tags: { next: '2.0.0-rc.1', stable: '1.3.0' },
    })
    assert.is(user.headers['x-changed'], 'true')
    assert.equal(JSON.parse(user.headers['x-denied']!).map((d: any) => [d.version, d.rule]), [['2.0.0', 'release_age_gate']])
    const again = await hub.request('GET', '/proxy/gated/packages/left-pad', { token: ALICE })
    assert.is(again.headers['x-fingerprint'], user.headers['x-fingerprint'])
    // The admin bypasses both rules: nothing changes, nothing is re-rendered for it.
    const admin = await hub.request('GET', '/proxy/gated/packages/left-pad', { token: ADMIN })
    assert.is(admin.headers['x-changed'], 'false')
    assert.is(admin.headers['x-fingerprint'], '')
    assert.equal(admin.json().tags, { latest: '2.0.0', next: '2.0.0-rc.1', stable: '1.3.0' })
    // An old package under the age gate: unchanged apart from deny_latest's tag removal.
    const old = await hub.request('GET', '/proxy/gated/packages/old-pkg', { token: ALICE })
    assert.equal(old.json(), { versions: ['3.0.0', '2.9.0'], tags: {} })
    // No rules at all: the fast path.
    const open = await hub.request('GET', '/proxy/open/packages/left-pad')
    assert.is(open.headers['x-changed'], 'false')
    assert.is(open.json().versions.length, 5)
    // Two renders for left-pad (filtered, and the admin's unfiltered copy), one per distinct outcome.
    assert.equal(renders.filter((r) => r.startsWith('gated/left-pad')).length, 2)
  })

  Policy('deny_latest: the exact tag is refused (not exact versions, not look-alikes), admins bypass', async ({ hub, events }) => {
    const latest = await hub.request('GET', '/proxy/gated/packages/left-pad/tags/latest', { token: ALICE })
    assert.is(latest.status, 403)
    assert.match(latest.json().pkgs_error, /deny_latest/)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/tags/@latest', { token: ALICE })).status, 403)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/tags/next', { token: ALICE })).text(), '2.0.0-rc.1')
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/tags/Latest', { token: ALICE })).status, 404)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0', { token: ALICE })).status, 200)
    assert.is((await hub.request('GET', '/proxy/gated/packages/left-pad/tags/latest', { token: ADMIN })).text(), '2.0.0')
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad/tags/latest')).text(), '2.0.0')
    const denied = events.filter(([n, p]) => n === 'core:policy.denied' && p.rule === 'deny_latest')
    assert.is(denied.length, 2)
  })

  Policy('blocklist: 403 for everyone, admins included; hidden from listings; tags move; API lists reason, blocked_by, blocked_at', async ({ hub, events }) => {
    const block = await hub.request('POST', '/api/v1/admin/packages/block', {
      token: ADMIN, body: { registry: 'open', name: 'Left-Pad', version: '1.3.0', reason: 'CVE-2026-0001' },
    })
    assert.is(block.status, 200, block.text())
    const entry = block.json()
    assert.equal({ ...entry, blocked_at: undefined }, {
      registry: 'open', name: 'left-pad', version: '1.3.0', reason: 'CVE-2026-0001', blocked_by: 'root', blocked_at: undefined, created: true,
    })
    assert.is(entry.blocked_at, new Date(hub.clock.now()).toISOString())
    for (const token of [undefined, ALICE, ADMIN]) {
      const res = await hub.request('GET', '/proxy/open/packages/left-pad/-/1.3.0', { token })
      assert.is(res.status, 403, String(token))
      assert.match(res.json().pkgs_error, /version 1.3.0 of left-pad is blocked on this registry: CVE-2026-0001/)
    }
    // Name normalisation: the plugin lower-cases names.
    assert.is((await hub.request('GET', '/proxy/open/packages/LEFT-PAD/-/1.3.0')).status, 403)
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad/-/1.2.0')).status, 200)
    // Listing: gone for everyone, and the "stable" tag moved to the next allowed stable version.
    for (const token of [undefined, ADMIN]) {
      const list = await hub.request('GET', '/proxy/open/packages/left-pad', { token })
      assert.equal(list.json(), { versions: ['2.0.0', '2.0.0-rc.1', '1.2.0', '1.1.0'], tags: { latest: '2.0.0', next: '2.0.0-rc.1', stable: '1.2.0' } })
    }
    // The plugin can show the block (for an explorer-style page).
    const shown = await hub.request('GET', '/proxy/open/blocked/Left-Pad/1.3.0')
    assert.equal({ ...shown.json().blocked, blockedAt: undefined }, { version: '1.3.0', reason: 'CVE-2026-0001', blockedBy: 'root', blockedAt: undefined })

    // Blocking again updates the reason.
    const again = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'open', name: 'left-pad', version: '1.3.0', reason: 'still bad' } })
    assert.equal([again.json().created, again.json().reason], [false, 'still bad'])

    const listed = await hub.request('GET', '/api/v1/admin/packages/blocked?registry=open&name=LEFT-PAD', { token: ADMIN })
    assert.equal(listed.json().total, 1)
    assert.equal(listed.json().items[0].reason, 'still bad')

    const unblock = await hub.request('POST', '/api/v1/admin/packages/unblock', { token: ADMIN, body: { registry: 'open', name: 'left-pad', version: '1.3.0' } })
    assert.is(unblock.status, 200)
    assert.is(unblock.json().unblocked.version, '1.3.0')
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad/-/1.3.0')).status, 200)
    assert.is((await hub.request('POST', '/api/v1/admin/packages/unblock', { token: ADMIN, body: { registry: 'open', name: 'left-pad', version: '1.3.0' } })).status, 404)
    assert.equal(events.filter(([n]) => n.startsWith('core:package.')).map(([n, p]) => [n, p.name, p.version, p.actor.userId]), [
      ['core:package.blocked', 'left-pad', '1.3.0', 'root'],
      ['core:package.blocked', 'left-pad', '1.3.0', 'root'],
      ['core:package.unblocked', 'left-pad', '1.3.0', 'root'],
    ])
  })

  Policy('bulk-block reports each failure; the admin API is for admins only and validates input', async ({ hub }) => {
    const bulk = await hub.request('POST', '/api/v1/admin/packages/bulk-block', {
      token: ADMIN,
      body: {
        reason: 'incident 42',
        packages: [
          { registry: 'open', name: 'left-pad', version: '2.0.0' },
          { registry: 'gated', name: 'old-pkg', version: '3.0.0', reason: 'own reason' },
          { registry: 'nope', name: 'x', version: '1.0.0' },
        ],
      },
    })
    assert.is(bulk.status, 200, bulk.text())
    const r = bulk.json()
    assert.equal([r.processed, r.succeeded], [3, 2])
    assert.equal(r.failed, [{ registry: 'nope', name: 'x', version: '1.0.0', error: 'no registry named "nope"' }])
    assert.equal(r.blocked.map((b: any) => [b.registry, b.name, b.version, b.reason]), [['open', 'left-pad', '2.0.0', 'incident 42'], ['gated', 'old-pkg', '3.0.0', 'own reason']])
    assert.is((await hub.request('GET', '/proxy/gated/packages/old-pkg/-/3.0.0', { token: ADMIN })).status, 403)
    // The gated listing moves nothing to a blocked version; old-pkg's listing keeps only 2.9.0.
    assert.equal((await hub.request('GET', '/proxy/gated/packages/old-pkg', { token: ADMIN })).json(), { versions: ['2.9.0'], tags: { latest: '2.9.0' } })

    const all = await hub.request('GET', '/api/v1/admin/packages/blocked', { token: ADMIN })
    assert.is(all.json().total, 2)
    assert.is((await hub.request('GET', '/api/v1/admin/packages/blocked', { token: ALICE })).status, 403)
    assert.is((await hub.request('GET', '/api/v1/admin/packages/blocked')).status, 401)
    assert.is((await hub.request('POST', '/api/v1/admin/packages/block', { token: ALICE, body: { registry: 'open', name: 'a', version: '1' } })).status, 403)
    const bad = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'open', name: 'a' } })
    assert.is(bad.status, 400)
    assert.match(bad.json().error, /version/)
    const unknown = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'nope', name: 'a', version: '1' } })
    assert.equal([unknown.status, unknown.json().error], [400, 'no registry named "nope"'])
    const ctl = await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'open', name: 'a', version: '1\n2' } })
    assert.is(ctl.status, 400)
  })

  Policy('audit log: filters, limit, paging by id, RBAC refusals, batched writes and retention', async ({ hub }) => {
    const audit = hub.kernel.policy.audit
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0', { token: ALICE })
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ALICE })
    await hub.request('GET', '/proxy/open/packages/left-pad/-/1.2.0')
    // Anonymous callers lack source:read on the gated registry: refused by RBAC, and audited.
    const anon = await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0')
    assert.is(anon.status, 401)
    // Nothing was written yet: decisions wait in memory for the batch.
    assert.ok(audit.pending >= 4, `pending ${audit.pending}`)
    const deny = (await hub.request('GET', '/api/v1/admin/audit-log?outcome=deny', { token: ADMIN })).json() as any[]
    assert.is(audit.pending, 0)
    assert.equal(deny.map((e) => [e.registry, e.rule, e.user_id]), [['gated', 'rbac', 'anonymous'], ['gated', 'release_age_gate', 'alice']])
    const gated = (await hub.request('GET', '/api/v1/admin/audit-log?registry=gated&outcome=allow', { token: ADMIN })).json() as any[]
    assert.equal(gated.map((e) => e.version), ['1.3.0'])
    const byUser = (await hub.request('GET', '/api/v1/admin/audit-log?user=anonymous&registry=open', { token: ADMIN })).json() as any[]
    assert.equal(byUser.map((e) => [e.registry, e.version]), [['open', '1.2.0']])
    const byRule = (await hub.request('GET', '/api/v1/admin/audit-log?rule=rbac', { token: ADMIN })).json() as any[]
    assert.match(byRule[0].reason, /source:read required: authentication required/)
    const page1 = (await hub.request('GET', '/api/v1/admin/audit-log?limit=2', { token: ADMIN })).json() as any[]
    assert.is(page1.length, 2)
    const page2 = (await hub.request('GET', `/api/v1/admin/audit-log?limit=2&before=${page1[1].id}`, { token: ADMIN })).json() as any[]
    assert.is(page2.length, 2)
    assert.ok(page2[0].id < page1[1].id)
    assert.is((await hub.request('GET', '/api/v1/admin/audit-log?outcome=maybe', { token: ADMIN })).status, 400)
    assert.is((await hub.request('GET', '/api/v1/admin/audit-log?limit=5000', { token: ADMIN })).status, 400)
    assert.is((await hub.request('GET', '/api/v1/admin/audit-log', { token: ALICE })).status, 403)

    // 1200 decisions in one burst: recorded synchronously, written in batches of 500.
    const ci = { subject: 'token:ci', userId: 'ci', role: 'user' as const, groups: [], provider: 'token' }
    for (let i = 0; i < 1200; i++) hub.kernel.policy.registry('open')!.enforce({ identity: ci, name: 'left-pad', version: '1.2.0' })
    assert.ok(audit.pending > 0 && audit.pending <= 1200)
    await audit.flush()
    const written = (await hub.request('GET', '/api/v1/admin/audit-log?user=ci&limit=1000', { token: ADMIN })).json() as any[]
    assert.is(written.length, 1000)
    const metrics = (await hub.request('GET', '/metrics')).text()
    assert.match(metrics, /batlehub_audit_entries_written_total \d+/)

    // Retention: entries older than retention_days (90) are purged.
    const before = (await hub.request('GET', '/api/v1/admin/audit-log?user=alice', { token: ADMIN })).json().length
    assert.is(before, 2)
    hub.clock.advance(91 * 24 * HOUR)
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0', { token: ALICE })
    await audit.flush()
    const removed = await audit.purge()
    assert.ok(removed >= 1200 + before, `removed ${removed}`)
    const left = (await hub.request('GET', '/api/v1/admin/audit-log', { token: ADMIN })).json() as any[]
    assert.equal(left.map((e) => [e.user_id, e.version]), [['alice', '1.3.0']])
  })

  Policy('metrics count decisions per registry, rule and outcome; events carry the decision', async ({ hub, events }) => {
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ALICE })
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/2.0.0', { token: ALICE })
    await hub.request('GET', '/proxy/gated/packages/left-pad/-/1.3.0', { token: ALICE })
    const text = (await hub.request('GET', '/metrics')).text()
    assert.match(text, /batlehub_policy_decisions_total\{registry="gated",rule="release_age_gate",outcome="deny"\} 2/)
    assert.match(text, /batlehub_policy_decisions_total\{registry="gated",rule="none",outcome="allow"\} 1/)
    assert.match(text, /batlehub_blocked_versions 0/)
    const denied = events.filter(([n]) => n === 'core:policy.denied').map(([, p]) => p)
    assert.is(denied.length, 2)
    assert.equal({ ...denied[0], at: undefined, reason: undefined }, { registry: 'gated', name: 'left-pad', version: '2.0.0', rule: 'release_age_gate', subject: 'token:alice', at: undefined, reason: undefined })
    const allowed = events.filter(([n]) => n === 'core:policy.allowed').map(([, p]) => p)
    assert.equal(allowed.map((p) => [p.registry, p.version, p.subject]), [['gated', '1.3.0', 'token:alice']])
  })

  Policy('mayFilter and minReleaseAgeSecs tell plugins when they can skip all filtering', async ({ hub }) => {
    const probe = async (registry: string, name: string, token?: string) => (await hub.request('GET', `/proxy/${registry}/probe/${name}`, { token })).json()
    assert.equal(await probe('gated', 'left-pad', ALICE), { mayFilter: true, minReleaseAgeSecs: 3600 })
    // The admin bypasses both rules of the gated registry.
    assert.equal(await probe('gated', 'left-pad', ADMIN), { mayFilter: false, minReleaseAgeSecs: 0 })
    assert.equal(await probe('open', 'left-pad'), { mayFilter: false, minReleaseAgeSecs: 0 })
    await hub.request('POST', '/api/v1/admin/packages/block', { token: ADMIN, body: { registry: 'open', name: 'left-pad', version: '1.1.0' } })
    assert.equal(await probe('open', 'LEFT-PAD', ADMIN), { mayFilter: true, minReleaseAgeSecs: 0 })
    assert.equal(await probe('open', 'old-pkg', ADMIN), { mayFilter: false, minReleaseAgeSecs: 0 })
  })

  Policy('policy settings are visible to admins', async ({ hub }) => {
    const res = await hub.request('GET', '/api/v1/admin/policy', { token: ADMIN })
    assert.is(res.status, 200)
    const body = res.json()
    assert.is(body.store, 'memory')
    assert.equal(body.registries[0], { name: 'gated', rules: [
      { kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] },
      { kind: 'deny_latest', bypass_roles: ['admin'] },
    ] })
    assert.equal(body.audit, { enabled: true, retention_days: 90 })
    const spec = (await hub.request('GET', '/api/v1/openapi.json')).json()
    for (const p of ['/api/v1/admin/packages/block', '/api/v1/admin/packages/unblock', '/api/v1/admin/packages/bulk-block', '/api/v1/admin/audit-log', '/api/v1/admin/ip-blocks', '/api/v1/admin/ip-blocks/{ip}']) {
      assert.ok(spec.paths[p], p)
    }
  })

  Policy.run()
}
