/**
 * Two hub processes (`batlehub serve`, the real CLI) sharing one Redis share one rate budget and
 * see each other's IP blocks — the multi-replica deployment of docs/policy.md.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'

const root = fileURLToPath(new URL('..', import.meta.url))
const REDIS_URL = process.env.BATLEHUB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ADMIN = 'admin-token-replicas-0123456789'

interface Replica { child: ChildProcess; url: string }

function startReplica(dir: string, prefix: string): Promise<Replica> {
  writeFileSync(join(dir, 'config.toml'), [
    '[server]', 'host = "127.0.0.1"', 'port = 0', `data_dir = "${dir}"`, 'trust_proxy = true', '',
    '[logging]', 'level = "error"', 'access_log = false', '',
    '[cache]', 'type = "redis"', `url = "${REDIS_URL}"`, `key_prefix = "${prefix}"`, '',
    '[rate_limit]', 'enabled = true', 'window_secs = 86400', '',
    '[rate_limit.limits]', 'anonymous = 4', 'user = 100', '',
    '[plugins]', `dirs = ["${join(root, 'plugin-template')}"]`, '',
    '[[auth]]', 'type = "token"', '[[auth.tokens]]', `value = "${ADMIN}"`, 'role = "admin"', 'user_id = "root"', '',
    '[[registries]]', 'name = "files"', 'type = "files"', 'mode = "local"', '',
    '[registries.rbac]', 'anonymous = ["releases:read"]', 'admin = ["*"]', '',
  ].join('\n'))
  const child = spawn(process.execPath, [join(root, 'kernel/dist/src/cli.js'), 'serve', '--config', join(dir, 'config.toml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`replica did not start:\n${out}`)), 60_000)
    const onData = (d: Buffer) => {
      out += d
      const m = /BatleHub listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: m[1]! })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`replica exited with ${code}:\n${out}`))
    })
  })
}

async function stopReplica(r: Replica | undefined): Promise<void> {
  if (!r || r.child.exitCode !== null) return
  const exited = new Promise((resolve) => r.child.once('exit', resolve))
  r.child.kill('SIGTERM')
  const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(t)
}

const get = (r: Replica, path: string, headers: Record<string, string> = {}) => fetch(r.url + path, { headers })

const Replicas = suite<{ dirs: string[]; prefix: string; a?: Replica; b?: Replica }>('policy: two hub processes on one Redis')
Replicas.before.each(async (t) => {
  t.prefix = `bhtest:${randomBytes(6).toString('hex')}:`
  t.dirs = [mkdtempSync(join(tmpdir(), 'bh-replica-')), mkdtempSync(join(tmpdir(), 'bh-replica-'))]
  ;[t.a, t.b] = await Promise.all([startReplica(t.dirs[0]!, t.prefix), startReplica(t.dirs[1]!, t.prefix)])
})
Replicas.after.each(async (t) => {
  await Promise.all([stopReplica(t.a), stopReplica(t.b)])
  for (const d of t.dirs) rmSync(d, { recursive: true, force: true })
  const r = new Redis(REDIS_URL)
  const keys = await r.keys(`${t.prefix}*`)
  if (keys.length) await r.del(...keys)
  r.disconnect()
})

Replicas('one rate budget across replicas, and IP blocks reach every replica', async ({ a, b }) => {
  const client = { 'x-forwarded-for': '198.51.100.77' }
  const seen: string[] = []
  for (const r of [a!, b!, a!, b!]) {
    const res = await get(r, '/api/v1/registries', client)
    assert.is(res.status, 200)
    seen.push(res.headers.get('x-ratelimit-remaining')!)
  }
  assert.equal(seen, ['3', '2', '1', '0'])
  for (const r of [a!, b!]) {
    const res = await get(r, '/proxy/files/whoami', client)
    assert.is(res.status, 429)
    assert.ok(Number(res.headers.get('retry-after')) >= 1)
  }
  // Another client has its own budget.
  assert.is((await get(b!, '/api/v1/registries', { 'x-forwarded-for': '198.51.100.78' })).headers.get('x-ratelimit-remaining'), '3')

  // A manual block on replica A reaches replica B within its refresh interval.
  const block = await fetch(`${a!.url}/api/v1/admin/ip-blocks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.1' },
    body: JSON.stringify({ ip: '198.51.100.79', duration_secs: 600 }),
  })
  assert.is(block.status, 201)
  let status = 0
  for (let i = 0; i < 50 && status !== 403; i++) {
    status = (await get(b!, '/api/v1/registries', { 'x-forwarded-for': '198.51.100.79' })).status
    if (status !== 403) await new Promise((r) => setTimeout(r, 100))
  }
  assert.is(status, 403)
})
Replicas.run()
