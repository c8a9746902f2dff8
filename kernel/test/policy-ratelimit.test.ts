// Rate limiting on every shared store: memory (one process), PostgreSQL and Redis (shared by
// replicas). Two kernels on one Redis share one budget.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { CoreEvents } from '@batlehub/sdk'
import { createTestKernel, openTestDatabase, type KernelTestHandle } from '../src/testing/index.ts'
import { PostgresStore } from '../src/policy/store/postgres.ts'
import { RedisStore } from '../src/policy/store/redis.ts'
import { MemoryStore } from '../src/policy/store/memory.ts'
import { catalogs, policyTestRegistry } from './fixtures/policy/plugin.ts'

const REDIS_URL = process.env.BATLEHUB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ADMIN = 'admin-token-rl-0123456789'
const ALICE = 'alice-token-rl-0123456789'
const BOB = 'bob-token-rl-0123456789'
const CI1 = 'ci1-token-rl-0123456789'
const CI2 = 'ci2-token-rl-0123456789'
const QA = 'qa-token-rl-0123456789'
const WINDOW = 60_000
/** A window start well inside an hour, so every kernel in a test sees the same window. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 5_000

type Store = 'memory' | 'postgres' | 'redis'

function hubConfig(store: Store, prefix: string, rateLimit: Record<string, unknown>): Record<string, unknown> {
  return {
    auth: [{ type: 'token', tokens: [
      { value: ADMIN, role: 'admin', user_id: 'root' },
      { value: ALICE, role: 'user', user_id: 'alice' },
      { value: BOB, role: 'user', user_id: 'bob' },
      { value: CI1, role: 'user', user_id: 'ci1', groups: ['ci-bots'] },
      { value: CI2, role: 'user', user_id: 'ci2', groups: ['ci-bots'] },
      { value: QA, role: 'user', user_id: 'qa', groups: ['qa-team'] },
    ] }],
    registries: [{ name: 'open', type: 'pkgs', upstreams: ['http://127.0.0.1:9'] }],
    cache: store === 'redis' ? { type: 'redis', url: REDIS_URL, key_prefix: prefix } : { type: store },
    rate_limit: {
      enabled: true, window_secs: WINDOW / 1000,
      limits: { anonymous: 2, user: 3, admin: 0 },
      groups: [{ group: 'ci-*', limit: 3, shared: true }, { group: 'qa-*', limit: 1 }],
      ...rateLimit,
    },
  }
}

async function startHub(store: Store, prefix: string, rateLimit: Record<string, unknown> = {}): Promise<KernelTestHandle> {
  const hub = await createTestKernel({
    database: store === 'postgres' ? 'postgresql' : 'sqlite',
    plugins: [policyTestRegistry],
    config: hubConfig(store, prefix, rateLimit),
  })
  hub.clock.set(T0)
  catalogs.set('open', { 'left-pad': { versions: [{ version: '1.0.0' }], tags: { latest: '1.0.0' } } })
  return hub
}

async function dropPrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length) await r.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    r.disconnect()
  }
}

const stores: Store[] = ['memory', 'redis', ...(process.env.BATLEHUB_TEST_PG_URL ? ['postgres' as const] : [])]

for (const store of stores) {
  const Rl = suite<{ hub: KernelTestHandle; prefix: string }>(`rate limit (${store})`)
  Rl.before.each(async (t) => {
    t.prefix = `bhtest:${randomBytes(6).toString('hex')}:`
    t.hub = await startHub(store, t.prefix)
  })
  Rl.after.each(async (t) => {
    await t.hub.close()
    if (store === 'redis') await dropPrefix(t.prefix)
  })

  Rl('per-user budget: headers on every response, 429 with Retry-After past the limit, a new window resets', async ({ hub }) => {
    const reset = String(Math.ceil((T0 - (T0 % WINDOW) + WINDOW) / 1000))
    for (const remaining of ['2', '1']) {
      const res = await hub.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
      assert.is(res.status, 200)
      assert.equal([res.headers['x-ratelimit-limit'], res.headers['x-ratelimit-remaining'], res.headers['x-ratelimit-reset']], ['3', remaining, reset])
    }
    // API requests draw from the same budget and carry the headers too.
    const api = await hub.request('GET', '/api/v1/registries', { token: ALICE })
    assert.equal([api.status, api.headers['x-ratelimit-remaining']], [200, '0'])
    const over = await hub.request('GET', '/proxy/open/packages/left-pad/-/1.0.0', { token: ALICE })
    assert.is(over.status, 429)
    assert.is(over.headers['retry-after'], '55')
    assert.equal([over.headers['x-ratelimit-limit'], over.headers['x-ratelimit-remaining']], ['3', '0'])
    assert.match(over.json().pkgs_error, /rate limit of 3 requests per 60s exceeded; retry in 55s/)
    assert.is((await hub.request('GET', '/api/v1/registries', { token: ALICE })).status, 429)
    // Another user has a budget of their own.
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: BOB })).status, 200)
    hub.clock.advance(55_000)
    const next = await hub.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
    assert.equal([next.status, next.headers['x-ratelimit-remaining']], [200, '2'])
  })

  Rl('anonymous callers are counted per address; admins with limit 0 are not counted', async ({ hub }) => {
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad')).status, 200)
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad')).status, 200)
    const third = await hub.request('GET', '/proxy/open/packages/left-pad')
    assert.is(third.status, 429)
    assert.ok(third.headers['retry-after'])
    for (let i = 0; i < 5; i++) {
      const admin = await hub.request('GET', '/proxy/open/packages/left-pad', { token: ADMIN })
      assert.is(admin.status, 200)
      assert.is(admin.headers['x-ratelimit-limit'], undefined)
    }
  })

  Rl('group pools: a shared CI bucket for every member; a non-shared group limit per member', async ({ hub }) => {
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: CI1 })).status, 200)
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: CI2 })).status, 200)
    const third = await hub.request('GET', '/proxy/open/packages/left-pad', { token: CI1 })
    assert.equal([third.status, third.headers['x-ratelimit-remaining']], [200, '0'])
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: CI2 })).status, 429)
    // qa-* has limit 1 per member (not shared).
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: QA })).headers['x-ratelimit-limit'], '1')
    assert.is((await hub.request('GET', '/proxy/open/packages/left-pad', { token: QA })).status, 429)
  })

  Rl('refusals are audited (once per pool and window), counted and emitted', async ({ hub }) => {
    const events: Array<CoreEvents['core:ratelimit.exceeded']> = []
    hub.kernel.bus.on('core:ratelimit.exceeded', (p) => {
      events.push(p)
    })
    for (let i = 0; i < 6; i++) await hub.request('GET', '/proxy/open/packages/left-pad', { token: BOB })
    const log = (await hub.request('GET', '/api/v1/admin/audit-log?rule=rate_limit', { token: ADMIN })).json() as any[]
    assert.equal(log.map((e) => [e.registry, e.user_id, e.outcome]), [['open', 'bob', 'deny']])
    assert.match(log[0].reason, /rate limit of 3 requests per 60s exceeded \(user:token:bob\)/)
    assert.is(events.length, 3)
    assert.equal({ ...events[0], at: undefined }, { pool: 'user:token:bob', limit: 3, enforcement: 'block', subject: 'token:bob', ip: '127.0.0.1', at: undefined })
    assert.match((await hub.request('GET', '/metrics')).text(), /batlehub_rate_limit_exceeded_total\{enforcement="block"\} 3/)
  })

  Rl.run()
}

const Warn = suite<{ hub: KernelTestHandle }>('rate limit (warn enforcement)')
Warn.before.each(async (t) => {
  t.hub = await startHub('memory', '', { enforcement: 'warn' })
})
Warn.after.each(async (t) => {
  await t.hub.close()
})
Warn('warn serves over-limit requests and says so', async ({ hub }) => {
  for (let i = 0; i < 3; i++) await hub.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
  const over = await hub.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
  assert.is(over.status, 200)
  assert.is(over.headers['x-ratelimit-remaining'], '0')
  assert.is(over.headers['x-ratelimit-warning'], 'rate limit of 3 requests per 60s exceeded')
  assert.equal((await hub.request('GET', '/api/v1/admin/audit-log?rule=rate_limit', { token: ADMIN })).json(), [])
})
Warn.run()

const Shared = suite<{ a: KernelTestHandle; b: KernelTestHandle; prefix: string }>('rate limit: two hubs on one Redis')
Shared.before.each(async (t) => {
  t.prefix = `bhtest:${randomBytes(6).toString('hex')}:`
  t.a = await startHub('redis', t.prefix)
  t.b = await startHub('redis', t.prefix)
})
Shared.after.each(async (t) => {
  await t.a.close()
  await t.b.close()
  await dropPrefix(t.prefix)
})
Shared('two replicas share one budget per user', async ({ a, b }) => {
  assert.is((await a.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })).headers['x-ratelimit-remaining'], '2')
  assert.is((await b.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })).headers['x-ratelimit-remaining'], '1')
  assert.is((await a.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })).headers['x-ratelimit-remaining'], '0')
  const refused = await b.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
  assert.is(refused.status, 429)
  assert.ok(Number(refused.headers['retry-after']) >= 1)
  assert.is((await a.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })).status, 429)
  // A different prefix is a different hub: its own budgets.
  const other = await startHub('redis', `bhtest:${randomBytes(6).toString('hex')}:`)
  try {
    assert.is((await other.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })).status, 200)
  } finally {
    await other.close()
  }
})
Shared('an unreachable Redis fails open: requests are served, the failure is counted', async ({ a }) => {
  await (a.kernel.policy as any).store.close()
  for (let i = 0; i < 5; i++) {
    const res = await a.request('GET', '/proxy/open/packages/left-pad', { token: ALICE })
    assert.is(res.status, 200)
    assert.is(res.headers['x-ratelimit-limit'], undefined)
  }
  assert.match((await a.request('GET', '/metrics')).text(), /batlehub_policy_store_errors_total\{operation="rate_limit"\} [1-9]/)
})
Shared('a hub whose Redis cannot be reached refuses to start, naming it without its password', async () => {
  try {
    await createTestKernel({ plugins: [policyTestRegistry], config: { ...hubConfig('redis', 'x:', {}), cache: { type: 'redis', url: 'redis://:secret@127.0.0.1:1/0' } } })
    assert.unreachable('started')
  } catch (err) {
    assert.match((err as Error).message, /cannot connect to Redis \(redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0\)/)
    assert.not.match((err as Error).message, /secret/)
  }
})
Shared.run()

const Stores = suite('shared stores: fixed-window counters')
Stores('memory: counters per key and window, swept when the window is over', async () => {
  const s = new MemoryStore()
  assert.equal([await s.hit('k', 0, 1000), await s.hit('k', 0, 1000), await s.hit('k', 1000, 1000), await s.hit('j', 0, 1000)], [1, 2, 1, 1])
  await s.sweep(1000)
  assert.is(s.size, 1)
  await s.sweep(2000)
  assert.is(s.size, 0)
})
Stores('redis: two clients count into one key that expires after the window', async () => {
  const prefix = `bhtest:${randomBytes(6).toString('hex')}:`
  const one = await RedisStore.connect({ url: REDIS_URL, prefix })
  const two = await RedisStore.connect({ url: REDIS_URL, prefix })
  const raw = new Redis(REDIS_URL)
  try {
    assert.equal([await one.hit('k', 1000, 2000), await two.hit('k', 1000, 2000), await one.hit('k', 1000, 2000)], [1, 2, 3])
    const ttl = await raw.pttl(`${prefix}counter:k:1000`)
    assert.ok(ttl > 5000 && ttl <= 7000, `ttl ${ttl}`)
    await one.putIpBlock({ ip: '10.0.0.1', reason: 'r', source: 'manual', blockedBy: 'root', blockedAt: 1, expiresAt: 5 })
    await one.putIpBlock({ ip: '10.0.0.2', reason: null, source: 'auto', blockedBy: null, blockedAt: 2, expiresAt: null })
    assert.equal((await two.listIpBlocks(4)).map((b) => b.ip), ['10.0.0.2', '10.0.0.1'])
    assert.equal((await two.listIpBlocks(5)).map((b) => b.ip), ['10.0.0.2'])
    await two.sweep(10)
    assert.equal(Object.keys(await raw.hgetall(`${prefix}ipblocks`)), ['10.0.0.2'])
    assert.is(await one.deleteIpBlock('10.0.0.2'), true)
    assert.is(await one.deleteIpBlock('10.0.0.2'), false)
  } finally {
    await one.close()
    await two.close()
    raw.disconnect()
    await dropPrefix(prefix)
  }
})
if (process.env.BATLEHUB_TEST_PG_URL) {
  Stores('postgres: two stores on one database share counters; expired rows are swept', async () => {
    const { db, close } = await openTestDatabase('postgresql')
    try {
      const one = new PostgresStore(db)
      const two = new PostgresStore(db)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).hit('k', 60_000, 60_000)))
      assert.equal(results.sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1))
      assert.is(await one.hit('k', 120_000, 60_000), 1)
      await one.putIpBlock({ ip: '10.0.0.9', reason: 'x', source: 'manual', blockedBy: 'root', blockedAt: 1000, expiresAt: 200_000 })
      assert.equal((await two.listIpBlocks(150_000)).map((b) => [b.ip, b.blockedBy, b.expiresAt]), [['10.0.0.9', 'root', 200_000]])
      await two.sweep(130_000)
      const rows = await db.execute<{ window_start: string }>(`select window_start from "${db.schema}"."rate_limit_counters" order by window_start`)
      assert.equal(rows.map((r) => Number(r.window_start)), [120_000])
      await two.sweep(250_000)
      assert.equal(await one.listIpBlocks(0), [])
    } finally {
      await close()
    }
  })
}
Stores.run()
