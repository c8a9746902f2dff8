import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { Writable } from 'node:stream'
import { defineRegistryPlugin, InputError } from '@batlehub/sdk'
import { createTestKernel, fakeUpstream, testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { splitChallenges } from '../src/http/app.ts'

const FILES_PLUGIN = fileURLToPath(new URL('../../../plugin-template', import.meta.url))
const b64 = (s: string) => Buffer.from(s).toString('base64')

for (const dialect of testDialects()) {
  const Http = suite<{ hub: KernelTestHandle; groupToken: string }>(`kernel http (${dialect})`)

  Http.before.each(async (t) => {
    t.groupToken = 'group-member-token-0123456789'
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [FILES_PLUGIN],
      config: {
        auth: [{ type: 'token', tokens: [
          { value: 'admin-token-0123456789abcdef', role: 'admin', user_id: 'root' },
          { value: 'user-token-0123456789abcdef', role: 'user', user_id: 'alice' },
          { value: t.groupToken, role: 'user', user_id: 'bob', groups: ['team-frontend'] },
        ] }],
        registries: [{
          name: 'files', type: 'files', mode: 'local',
          rbac: { anonymous: ['releases:read'], user: ['source:read'], admin: ['*'], 'team-*': ['releases:write'] },
        }],
      },
    })
  })
  Http.after.each(async (t) => {
    await t.hub.close()
  })

  Http('mounts each registry and lists it with type and mode', async ({ hub }) => {
    const res = await hub.request('GET', '/api/v1/registries')
    assert.is(res.status, 200)
    assert.equal(res.json().registries, [{
      name: 'files', type: 'files', mode: 'local', url: '/proxy/files/',
      capabilities: { proxy: true, publish: true, search: false, yank: false },
    }])
    const who = await hub.request('GET', '/proxy/files/whoami', { token: 'user-token-0123456789abcdef' })
    assert.equal(who.json(), { user: 'alice', role: 'user', groups: [] })
    const missing = await hub.request('GET', '/proxy/nope/whoami')
    assert.is(missing.status, 404)
  })

  Http('RBAC matrix: role x permission x group on a mounted registry', async ({ hub, groupToken }) => {
    const admin = 'admin-token-0123456789abcdef'
    const user = 'user-token-0123456789abcdef'
    const put = await hub.request('PUT', '/proxy/files/files/a.txt', { token: admin, body: 'hello' })
    assert.is(put.status, 201, put.text())
    const cases: Array<[string, string | undefined, string, number]> = [
      // [who, token, request, expected status]
      ['anonymous', undefined, 'GET /files/a.txt', 200],
      ['anonymous', undefined, 'GET /source/a.txt', 401],
      ['anonymous', undefined, 'PUT /files/b.txt', 401],
      ['user', user, 'GET /files/a.txt', 200], // inherited from anonymous
      ['user', user, 'GET /source/a.txt', 200],
      ['user', user, 'PUT /files/b.txt', 403],
      ['group member', groupToken, 'GET /source/a.txt', 200],
      ['group member', groupToken, 'PUT /files/c.txt', 201], // granted by the team-* glob
      ['admin', admin, 'GET /source/a.txt', 200],
      ['admin', admin, 'PUT /files/d.txt', 201],
      ['admin', admin, 'DELETE /files/d.txt', 204],
      ['user', user, 'DELETE /files/a.txt', 403],
    ]
    for (const [who, token, req, expected] of cases) {
      const [method, path] = req.split(' ') as [string, string]
      const res = await hub.request(method, `/proxy/files${path}`, { token, ...(method === 'PUT' ? { body: `${who} wrote` } : {}) })
      assert.is(res.status, expected, `${who}: ${req} → ${res.status} ${res.text()}`)
      if (expected === 401) assert.match(res.headers['www-authenticate'] ?? '', /Basic/)
    }
  })

  Http('tokens arrive as Bearer, Basic password, raw header and X-NuGet-ApiKey', async ({ hub }) => {
    const token = 'user-token-0123456789abcdef'
    const forms: Record<string, string>[] = [
      { authorization: `Bearer ${token}` },
      { authorization: `Basic ${b64(`__token__:${token}`)}` },
      { authorization: `Basic ${b64(`alice:${token}`)}` },
      { authorization: token },
      { 'x-nuget-apikey': token },
    ]
    for (const headers of forms) {
      const res = await hub.request('GET', '/proxy/files/whoami', { headers })
      assert.is(res.status, 200, JSON.stringify(headers))
      assert.is(res.json().user, 'alice')
    }
    const bad: Record<string, string>[] = [{ authorization: 'Bearer wrong-token' }, { authorization: 'Basic !!!' }, { 'x-nuget-apikey': 'nope' }]
    for (const headers of bad) {
      const res = await hub.request('GET', '/proxy/files/whoami', { headers })
      assert.is(res.status, 401, JSON.stringify(headers))
      assert.match(res.text(), /^files: /, 'errors use the plugin format')
    }
    const anon = await hub.request('GET', '/proxy/files/whoami')
    assert.equal(anon.json(), { user: 'anonymous', role: 'anonymous', groups: [] })
  })

  Http('4xx use the protocol format', async ({ hub }) => {
    const nf = await hub.request('GET', '/proxy/files/files/none.txt')
    assert.is(nf.status, 404)
    const api404 = await hub.request('GET', '/api/v1/nothing-here')
    assert.is(api404.status, 404)
    assert.is(api404.json().code, 'BH_NOT_FOUND')
  })

  Http('storage through a registry: range, checksum, size limit', async ({ hub }) => {
    const admin = 'admin-token-0123456789abcdef'
    const content = 'abcdefghijklmnopqrstuvwxyz'
    const sha = createHash('sha256').update(content).digest('hex')
    const bad = await hub.request('PUT', '/proxy/files/files/x.txt', { token: admin, body: content, headers: { 'x-checksum-sha256': 'f'.repeat(64) } })
    assert.is(bad.status, 400, bad.text())
    assert.is((await hub.request('GET', '/proxy/files/files/x.txt')).status, 404, 'a refused upload stores nothing')
    const ok = await hub.request('PUT', '/proxy/files/files/x.txt', { token: admin, body: content, headers: { 'x-checksum-sha256': sha } })
    assert.is(ok.status, 201)
    assert.is(ok.json().sha256, sha)
    const full = await hub.request('GET', '/proxy/files/files/x.txt')
    assert.is(full.text(), content)
    assert.is(full.headers.etag, `"${sha}"`)
    const part = await hub.request('GET', '/proxy/files/files/x.txt', { headers: { range: 'bytes=2-4' } })
    assert.is(part.status, 206)
    assert.is(part.text(), 'cde')
    const cached = await hub.request('GET', '/proxy/files/files/x.txt', { headers: { 'if-none-match': `"${sha}"` } })
    assert.is(cached.status, 304)
    const big = await hub.request('PUT', '/proxy/files/files/big.bin', { token: admin, body: Buffer.alloc(11 * 1024 * 1024, 1) })
    assert.is(big.status, 413)
    assert.is((await hub.request('GET', '/proxy/files/files/big.bin')).status, 404)
    const traversal = await hub.request('PUT', '/proxy/files/files/a%2F..%2F..%2Fescape.txt', { token: admin, body: 'x' })
    assert.is(traversal.status, 400, traversal.text())
  })

  Http('an upload aborted by the client leaves nothing behind', async ({ hub }) => {
    const url = new URL(`${hub.url}/proxy/files/files/aborted.bin`)
    await new Promise<void>((resolve) => {
      const req = httpRequest(url, { method: 'PUT', headers: { authorization: 'Bearer admin-token-0123456789abcdef', 'content-length': String(1024 * 1024) } })
      req.on('error', () => resolve())
      req.write(Buffer.alloc(64 * 1024, 7))
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 200)
    })
    await new Promise((r) => setTimeout(r, 200))
    assert.is((await hub.request('GET', '/proxy/files/files/aborted.bin')).status, 404)
  })

  Http('/healthz, /metrics and the OpenAPI document', async ({ hub }) => {
    const health = await hub.request('GET', '/healthz')
    assert.is(health.status, 200)
    assert.is(health.json().status, 'ok')
    assert.is(health.json().checks.database.ok, true)
    assert.is(health.json().checks.storage.default.ok, true)
    await hub.request('GET', '/proxy/files/whoami')
    const metrics = await hub.request('GET', '/metrics')
    assert.is(metrics.status, 200)
    assert.match(metrics.text(), /batlehub_http_requests_total\{registry="files",method="GET",status="200"\} \d+/)
    assert.match(metrics.text(), /batlehub_http_request_duration_seconds_bucket\{le="0\.005",registry="files"\}/)
    const spec = await hub.request('GET', '/api/v1/openapi.json')
    assert.is(spec.json().openapi, '3.1.0')
    assert.ok(spec.json().paths['/api/v1/registries'].get)
  })

  Http.run()
}

const crashy = defineRegistryPlugin({
  id: 'crashy',
  capabilities: { proxy: true, publish: false, search: false, yank: false },
  setup(ctx) {
    ctx.routes.get('/boom', () => {
      throw new Error('secret internal detail: db password is hunter2')
    }, { permission: null })
    ctx.routes.get('/teapot', () => {
      throw new InputError('bad package name: ../x')
    }, { permission: null })
    return {}
  },
  formatError: (err) => ({ contentType: 'text/plain; charset=utf-8', body: `crashy: ${err.code} ${err.message}\n`, reason: `Crashy: ${err.message}\r\nX-Injected: 1 \u00e9` }),
})

const Health = suite('kernel health')

Health('5xx messages never reach clients; 4xx messages do, in the protocol format', async () => {
  const hub = await createTestKernel({ plugins: [crashy], config: { registries: [{ name: 'c', type: 'crashy', upstreams: ['http://127.0.0.1:9'] }] } })
  try {
    const boom = await hub.request('GET', '/proxy/c/boom')
    assert.is(boom.status, 500)
    assert.is(boom.text(), 'crashy: BH_INTERNAL internal server error\n')
    const bad = await hub.request('GET', '/proxy/c/teapot')
    assert.is(bad.status, 400)
    assert.is(bad.text(), 'crashy: BH_INPUT bad package name: ../x\n')
    // The plugin's reason phrase reaches the status line, flattened to one printable-ASCII line.
    const raw = await fetch(`${hub.url}/proxy/c/teapot`)
    assert.is(raw.status, 400)
    assert.is(raw.statusText, 'Crashy: bad package name: ../x X-Injected: 1 ?')
    assert.is(raw.headers.get('x-injected'), null)
    await raw.arrayBuffer()
  } finally {
    await hub.close()
  }
})

Health('each authentication challenge is its own WWW-Authenticate field (HttpClient 4 reads only the first)', async () => {
  assert.equal(splitChallenges('Bearer realm="batlehub", Basic realm="batlehub", charset="UTF-8"'), ['Bearer realm="batlehub"', 'Basic realm="batlehub", charset="UTF-8"'])
  assert.equal(splitChallenges('Basic realm="a, b"'), ['Basic realm="a, b"'])
  const hub = await createTestKernel({ plugins: [FILES_PLUGIN], config: { registries: [{ name: 'files', type: 'files', mode: 'local' }] } })
  try {
    const fields = await new Promise<string[]>((resolve, reject) => {
      const u = new URL(hub.url)
      httpRequest({ host: u.hostname, port: u.port, path: '/proxy/files/files/a.txt' }, (res) => {
        res.resume()
        const out: string[] = []
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') out.push(res.rawHeaders[i + 1]!)
        resolve(out)
      }).on('error', reject).end()
    })
    assert.is(fields.length, 2)
    assert.ok(fields.some((f) => f.startsWith('Basic ')))
  } finally {
    await hub.close()
  }
})

Health('/healthz names a broken storage backend with 503', async () => {
  const hub = await createTestKernel({
    plugins: [FILES_PLUGIN],
    config: {
      storage: { backends: [{ name: 'broken', type: 'filesystem', path: '/proc/version/not-a-dir' }] },
      registries: [{ name: 'files', type: 'files', mode: 'local', storage: 'broken' }],
    },
  })
  try {
    const res = await hub.request('GET', '/healthz')
    assert.is(res.status, 503)
    const body = res.json()
    assert.is(body.status, 'unavailable')
    assert.is(body.checks.storage.default.ok, true)
    assert.is(body.checks.storage.broken.ok, false)
    assert.type(body.checks.storage.broken.error, 'string')
  } finally {
    await hub.close()
  }
})

Health('proxy mode fetches from the upstream once, then serves from storage', async () => {
  const upstream = await fakeUpstream({ 'GET /dir/a.bin': { body: 'upstream bytes' } })
  const hub = await createTestKernel({
    plugins: [FILES_PLUGIN],
    config: { registries: [{ name: 'files', type: 'files', upstreams: [upstream.url] }] },
  })
  try {
    const first = await hub.request('GET', '/proxy/files/files/dir/a.bin')
    assert.is(first.status, 200)
    assert.is(first.text(), 'upstream bytes')
    await upstream.close()
    const second = await hub.request('GET', '/proxy/files/files/dir/a.bin')
    assert.is(second.text(), 'upstream bytes')
    assert.equal(upstream.paths, ['/dir/a.bin'])
    const write = await hub.request('PUT', '/proxy/files/files/new.txt', { token: hub.adminToken, body: 'x' })
    assert.is(write.status, 403)
    assert.match(write.text(), /not in local or hybrid mode/)
  } finally {
    await hub.close()
    await upstream.close()
  }
})

Health('client aborts are not logged as errors', async () => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      cb()
    },
  })
  const hub = await createTestKernel({
    plugins: [FILES_PLUGIN],
    logLevel: 'debug',
    logDestination: sink,
    config: { registries: [{ name: 'files', type: 'files', mode: 'local' }] },
  })
  try {
    await new Promise<void>((resolve) => {
      const req = httpRequest(new URL(`${hub.url}/proxy/files/files/cut.bin`), {
        method: 'PUT', headers: { authorization: `Bearer ${hub.adminToken}`, 'content-length': String(4 * 1024 * 1024) },
      })
      req.on('error', () => resolve())
      req.write(Buffer.alloc(256 * 1024, 1))
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 150)
    })
    await new Promise((r) => setTimeout(r, 300))
    const entries = lines.map((l) => JSON.parse(l) as { level: string; msg: string; path?: string })
    assert.ok(entries.some((e) => e.path === '/proxy/files/files/cut.bin'), 'the request was logged')
    const errors = entries.filter((e) => e.level === 'error')
    assert.equal(errors, [], 'no error-level log for a client that hung up')
    assert.is((await hub.request('GET', '/proxy/files/files/cut.bin', { token: hub.adminToken })).status, 404)
  } finally {
    await hub.close()
  }
})

Health.run()
