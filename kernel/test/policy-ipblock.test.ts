// IP blocking: automatic bans after violations, the manual API, X-Block-Expires, the check before
// authentication, X-Forwarded-For only behind a trusted proxy, and blocks shared through
// PostgreSQL and Redis.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { CoreEvents } from '@batlehub/sdk'
import { createTestKernel, type KernelTestHandle } from '../src/testing/index.ts'
import { catalogs, policyTestRegistry } from './fixtures/policy/plugin.ts'

const REDIS_URL = process.env.BATLEHUB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ADMIN = 'admin-token-ip-0123456789'
const ALICE = 'alice-token-ip-0123456789'

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth: [{ type: 'token', tokens: [
      { value: ADMIN, role: 'admin', user_id: 'root' },
      { value: ALICE, role: 'user', user_id: 'alice' },
    ] }],
    registries: [{ name: 'open', type: 'pkgs', upstreams: ['http://127.0.0.1:9'] }],
    ip_blocking: { enabled: true, violation_threshold: 3, violation_window_secs: 60, ban_duration_secs: 600, trigger_on_status: [401, 429] },
    ...extra,
  }
}

async function hubWith(extra: Record<string, unknown> = {}, database: 'sqlite' | 'postgresql' = 'sqlite', databaseOf?: KernelTestHandle): Promise<KernelTestHandle> {
  const hub = await createTestKernel({ database, databaseOf, plugins: [policyTestRegistry], config: config(extra) })
  catalogs.set('open', { 'left-pad': { versions: [{ version: '1.0.0' }], tags: { latest: '1.0.0' } } })
  return hub
}

const xff = (chain: string) => ({ 'x-forwarded-for': chain })

const Ip = suite<{ hub: KernelTestHandle; events: Array<[string, any]> }>('ip blocking')
Ip.before.each(async (t) => {
  t.hub = await hubWith({ server: { trust_proxy: true } })
  t.events = []
  for (const name of ['core:ip.blocked', 'core:ip.unblocked'] as const) {
    t.hub.kernel.bus.on(name, (p: CoreEvents[typeof name]) => {
      t.events.push([name, p])
    })
  }
})
Ip.after.each(async (t) => {
  await t.hub.close()
})

Ip('repeated violations ban the address before authentication; the ban expires', async ({ hub, events }) => {
  const bad = { headers: { ...xff('203.0.113.7'), authorization: 'Bearer wrong-token' } }
  for (let i = 0; i < 3; i++) assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', bad)).status, 401)
  await hub.kernel.policy.idle()
  // Now even a valid admin credential from that address is refused, in the registry's error format.
  const refused = await hub.request('GET', '/proxy/open/packages/left-pad', { token: ADMIN, headers: xff('203.0.113.7') })
  assert.is(refused.status, 403)
  assert.match(refused.json().pkgs_error, /address 203\.0\.113\.7 is blocked: 3 responses with status 401\/429 within 60s/)
  const expires = new Date(hub.clock.now() + 600_000).toISOString()
  assert.is(refused.headers['x-block-expires'], expires)
  // API paths too (JSON error); health checks are not blocked.
  const api = await hub.request('GET', '/api/v1/registries', { headers: xff('203.0.113.7') })
  assert.equal([api.status, api.headers['x-block-expires']], [403, expires])
  assert.is((await hub.request('GET', '/healthz', { headers: xff('203.0.113.7') })).status, 200)
  // Other addresses are fine.
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('203.0.113.8') })).status, 200)
  const list = (await hub.request('GET', '/api/v1/admin/ip-blocks', { token: ADMIN, headers: xff('198.51.100.1') })).json() as any[]
  assert.equal(list.map((b) => [b.ip, b.source, b.blocked_by, b.expires_at]), [['203.0.113.7', 'auto', null, expires]])
  assert.equal(events.map(([n, p]) => [n, p.ip, p.source]), [['core:ip.blocked', '203.0.113.7', 'auto']])
  assert.match((await hub.request('GET', '/metrics', { headers: xff('198.51.100.1') })).text(), /batlehub_ip_blocked_requests_total 2/)
  // Refusals of a blocked address are audited once per minute, not per request.
  const audit = (await hub.request('GET', '/api/v1/admin/audit-log?rule=ip_block', { token: ADMIN, headers: xff('198.51.100.1') })).json() as any[]
  assert.equal(audit.map((e) => [e.ip, e.outcome, e.registry]), [['203.0.113.7', 'deny', 'open']])
  hub.clock.advance(600_001)
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('203.0.113.7') })).status, 200)
})

Ip('violations outside the window or with other statuses do not ban', async ({ hub }) => {
  const bad = { headers: { ...xff('203.0.113.9'), authorization: 'Bearer wrong' } }
  hub.clock.set(Math.floor(hub.clock.now() / 60_000) * 60_000 + 1000)
  await hub.request('GET', '/proxy/open/packages/left-pad', bad)
  await hub.request('GET', '/proxy/open/packages/left-pad', bad)
  hub.clock.advance(60_000)
  await hub.request('GET', '/proxy/open/packages/left-pad', bad)
  for (let i = 0; i < 5; i++) assert.is((await hub.request('GET', '/proxy/open/packages/missing', { headers: xff('203.0.113.9') })).status, 404)
  await hub.kernel.policy.idle()
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('203.0.113.9') })).status, 200)
})

Ip('manual blocks: create, list, X-Block-Expires, unblock; validation; admins only', async ({ hub, events }) => {
  const admin = { token: ADMIN, headers: xff('198.51.100.1') }
  const created = await hub.request('POST', '/api/v1/admin/ip-blocks', { ...admin, body: { ip: '192.0.2.44', reason: 'bad actor', duration_secs: 86400 } })
  assert.is(created.status, 201, created.text())
  const expires = new Date(hub.clock.now() + 86_400_000).toISOString()
  assert.equal({ ...created.json(), blocked_at: undefined }, { ip: '192.0.2.44', reason: 'bad actor', source: 'manual', blocked_by: 'root', blocked_at: undefined, expires_at: expires })
  const refused = await hub.request('GET', '/proxy/open/packages/left-pad/-/1.0.0', { headers: xff('192.0.2.44') })
  assert.equal([refused.status, refused.headers['x-block-expires']], [403, expires])
  // Permanent block.
  await hub.request('POST', '/api/v1/admin/ip-blocks', { ...admin, body: { ip: '::ffff:192.0.2.45' } })
  const forever = await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.45') })
  assert.equal([forever.status, forever.headers['x-block-expires']], [403, 'never'])
  const list = (await hub.request('GET', '/api/v1/admin/ip-blocks', admin)).json() as any[]
  assert.equal(list.map((b) => b.ip).sort(), ['192.0.2.44', '192.0.2.45'])
  const del = await hub.request('DELETE', '/api/v1/admin/ip-blocks/192.0.2.44', admin)
  assert.equal([del.status, del.json()], [200, { ip: '192.0.2.44', unblocked: true }])
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.44') })).status, 200)
  assert.is((await hub.request('DELETE', '/api/v1/admin/ip-blocks/192.0.2.44', admin)).status, 404)
  assert.is((await hub.request('DELETE', '/api/v1/admin/ip-blocks/not-an-ip', admin)).status, 400)
  const bad = await hub.request('POST', '/api/v1/admin/ip-blocks', { ...admin, body: { ip: '10.0.0.0/8' } })
  assert.equal([bad.status, bad.json().error], [400, 'not an IP address: "10.0.0.0/8"'])
  assert.is((await hub.request('POST', '/api/v1/admin/ip-blocks', { ...admin, body: { ip: '1.2.3.4', duration_secs: 0 } })).status, 400)
  assert.is((await hub.request('POST', '/api/v1/admin/ip-blocks', { token: ALICE, headers: xff('198.51.100.2'), body: { ip: '1.2.3.4' } })).status, 403)
  assert.equal(events.map(([n, p]) => [n, p.ip]), [['core:ip.blocked', '192.0.2.44'], ['core:ip.blocked', '192.0.2.45'], ['core:ip.unblocked', '192.0.2.44']])
})

Ip('behind a trusted proxy only the entry the proxy appended counts, not what the client wrote', async ({ hub }) => {
  await hub.request('POST', '/api/v1/admin/ip-blocks', { token: ADMIN, headers: xff('198.51.100.1'), body: { ip: '192.0.2.50' } })
  // The client claims another address in front; the proxy appends the real one.
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('10.9.9.9, 192.0.2.50') })).status, 403)
  // The blocked client forges the header: the proxy still appends its real address last.
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.50, 10.9.9.9') })).status, 200)
})

Ip('rate-limit refusals count as violations (trigger_on_status 429)', async () => {
  const hub = await hubWith({ server: { trust_proxy: true }, rate_limit: { enabled: true, limits: { anonymous: 1 } } })
  try {
    const c = { headers: xff('203.0.113.20') }
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', c)).status, 200)
    for (let i = 0; i < 3; i++) assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', c)).status, 429)
    await hub.kernel.policy.idle()
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', c)).status, 403)
  } finally {
    await hub.close()
  }
})
Ip.run()

const NoProxy = suite<{ hub: KernelTestHandle }>('ip blocking without a trusted proxy')
NoProxy.before.each(async (t) => {
  t.hub = await hubWith()
})
NoProxy.after.each(async (t) => {
  await t.hub.close()
})
NoProxy('X-Forwarded-For is ignored by default: the TCP peer is the client', async ({ hub }) => {
  await hub.request('POST', '/api/v1/admin/ip-blocks', { token: ADMIN, body: { ip: '192.0.2.60' } })
  assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.60') })).status, 200)
  // Forged headers cannot frame someone else either: violations count against the real peer.
  const bad = { headers: { ...xff('192.0.2.61'), authorization: 'Bearer wrong' } }
  for (let i = 0; i < 3; i++) await hub.request('GET', '/proxy/open/packages/left-pad', bad)
  await hub.kernel.policy.idle()
  // The real peer (127.0.0.1) got banned, even for the admin API.
  const again = await hub.request('GET', '/api/v1/admin/ip-blocks', { token: ADMIN })
  assert.equal([again.status, again.headers['x-block-expires'] !== undefined], [403, true])
  const blocks = await hub.kernel.policy.listIpBlocks()
  assert.equal(blocks.map((b) => b.ip).sort(), ['127.0.0.1', '192.0.2.60'])
})
NoProxy.run()

const sharedStores = ['redis', ...(process.env.BATLEHUB_TEST_PG_URL ? ['postgres'] : [])] as const
for (const store of sharedStores) {
  const Shared = suite<{ a: KernelTestHandle; b: KernelTestHandle; prefix: string }>(`ip blocks shared through ${store}`)
  Shared.before.each(async (t) => {
    t.prefix = `bhtest:${randomBytes(6).toString('hex')}:`
    const cache = store === 'redis' ? { type: 'redis', url: REDIS_URL, key_prefix: t.prefix } : { type: 'postgres' }
    t.a = await hubWith({ server: { trust_proxy: true }, cache }, store === 'postgres' ? 'postgresql' : 'sqlite')
    // The second replica: its own process state; with postgres, the same database.
    t.b = await hubWith({ server: { trust_proxy: true }, cache }, 'sqlite', store === 'postgres' ? t.a : undefined)
    // Replicas agree on the time (violation windows are aligned to the epoch).
    t.b.clock.set(t.a.clock.now())
  })
  Shared.after.each(async (t) => {
    await t.b.close()
    await t.a.close()
    if (store === 'redis') {
      const r = new Redis(REDIS_URL)
      const keys = await r.keys(`${t.prefix}*`)
      if (keys.length) await r.del(...keys)
      r.disconnect()
    }
  })
  Shared('a block made on one replica reaches the other within a refresh', async ({ a, b }) => {
    await a.request('POST', '/api/v1/admin/ip-blocks', { token: ADMIN, headers: xff('198.51.100.1'), body: { ip: '192.0.2.70', reason: 'shared' } })
    assert.is((await a.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.70') })).status, 403)
    let status = 0
    for (let i = 0; i < 40 && status !== 403; i++) {
      status = (await b.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.70') })).status
      if (status !== 403) await new Promise((r) => setTimeout(r, 100))
    }
    assert.is(status, 403)
    const listed = (await b.request('GET', '/api/v1/admin/ip-blocks', { token: ADMIN, headers: xff('198.51.100.1') })).json() as any[]
    assert.equal(listed.map((x) => [x.ip, x.reason]), [['192.0.2.70', 'shared']])
    // Violations are counted in the shared store too: two on A, one on B reach the threshold of 3.
    const bad = { headers: { ...xff('192.0.2.71'), authorization: 'Bearer wrong' } }
    await a.request('GET', '/proxy/open/packages/left-pad', bad)
    await a.request('GET', '/proxy/open/packages/left-pad', bad)
    await a.kernel.policy.idle()
    await b.request('GET', '/proxy/open/packages/left-pad', bad)
    await b.kernel.policy.idle()
    assert.is((await b.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.71') })).status, 403)
    await b.request('DELETE', '/api/v1/admin/ip-blocks/192.0.2.70', { token: ADMIN, headers: xff('198.51.100.1') })
    await a.kernel.policy.refreshIpBlocks()
    assert.is((await a.request('GET', '/proxy/open/packages/left-pad', { headers: xff('192.0.2.70') })).status, 200)
  })
  Shared.run()
}
