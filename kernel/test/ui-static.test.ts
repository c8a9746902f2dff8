import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { request as httpRequest } from 'node:http'
import { createTestKernel, type KernelTestHandle } from '../src/testing/index.ts'
import { contentSecurityPolicy, isReservedPath } from '../src/http/static.ts'
import { pluginUiModules } from '../src/kernel.ts'
import type { LoadedPlugin } from '../src/plugins/loader.ts'

const DEMO_PLUGIN = fileURLToPath(new URL('../../../admin-ui/test/fixtures/demo-plugin', import.meta.url))
const IMPORT_MAP = '{"imports":{"lit":"/assets/vendor/lit-AAAA.js"}}'
const INDEX = `<!doctype html><html><head><script type="importmap">${IMPORT_MAP}</script><script type="module" src="/assets/app-ABCD1234.js"></script></head><body><bh-app></bh-app></body></html>`

/** GET with a raw (not normalised) path, as a hostile client could send it. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const Static = suite<{ hub: KernelTestHandle; ui: string }>('web UI serving')

Static.before.each(async (t) => {
  t.ui = mkdtempSync(join(tmpdir(), 'bh-ui-'))
  mkdirSync(join(t.ui, 'assets'))
  writeFileSync(join(t.ui, 'index.html'), INDEX)
  writeFileSync(join(t.ui, 'assets', 'app-ABCD1234.js'), 'console.log("app")\n')
  writeFileSync(join(t.ui, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  writeFileSync(join(tmpdir(), 'bh-ui-outside.txt'), 'outside')
  t.hub = await createTestKernel({ plugins: [DEMO_PLUGIN], config: { server: { static_dir: t.ui }, registries: [{ name: 'demo', type: 'demo', upstreams: ['http://127.0.0.1:9'] }] } })
})
Static.after.each(async (t) => {
  await t.hub.close()
  rmSync(t.ui, { recursive: true, force: true })
})

Static('serves the app at / with a CSP that allows only same-origin code and the import map', async ({ hub }) => {
  const res = await hub.request('GET', '/')
  assert.is(res.status, 200)
  assert.match(res.headers['content-type']!, /^text\/html/)
  assert.is(res.text(), INDEX)
  const hash = createHash('sha256').update(IMPORT_MAP).digest('base64')
  assert.match(res.headers['content-security-policy']!, `script-src 'self' 'sha256-${hash}'`)
  assert.match(res.headers['content-security-policy']!, "default-src 'self'")
  assert.match(res.headers['content-security-policy']!, "frame-ancestors 'none'")
  assert.is(res.headers['x-content-type-options'], 'nosniff')
  assert.is(res.headers['x-frame-options'], 'DENY')
  assert.is(res.headers['cache-control'], 'no-cache')
  const again = await hub.request('GET', '/', { headers: { 'if-none-match': res.headers.etag! } })
  assert.is(again.status, 304)
})

Static('deep links of the app get index.html (history fallback), dots in package names included', async ({ hub }) => {
  for (const path of ['/explore', '/explore?q=lod', '/explore/packages/npm/lodash.merge', '/explore/packages/npm/@types/node', '/setup', '/admin', '/admin/banner', '/sign-in?next=/admin', '/some/page']) {
    const res = await hub.request('GET', path)
    assert.is(res.status, 200, path)
    assert.is(res.text(), INDEX, path)
  }
  const head = await hub.request('HEAD', '/explore')
  assert.is(head.status, 200)
  assert.is(head.body.length, 0)
})

Static('assets are served with long-lived caching; missing files stay 404', async ({ hub }) => {
  const js = await hub.request('GET', '/assets/app-ABCD1234.js')
  assert.is(js.status, 200)
  assert.match(js.headers['content-type']!, /^text\/javascript/)
  assert.is(js.headers['cache-control'], 'public, max-age=31536000, immutable')
  assert.is((await hub.request('GET', '/assets/app-ABCD1234.js', { headers: { 'if-none-match': js.headers.etag! } })).status, 304)
  const icon = await hub.request('GET', '/favicon.svg')
  assert.equal([icon.status, icon.headers['content-type'], icon.headers['cache-control']], [200, 'image/svg+xml', 'no-cache'])
  const missing = await hub.request('GET', '/assets/nope-1234.js')
  assert.is(missing.status, 404)
  assert.is(missing.json().code, 'BH_NOT_FOUND')
})

Static('never shadows the API, the registries, health and metrics', async ({ hub }) => {
  const api = await hub.request('GET', '/api/v1/no-such-endpoint')
  assert.equal([api.status, api.json().code], [404, 'BH_NOT_FOUND'])
  const proxy = await hub.request('GET', '/proxy/no-such-registry/x')
  assert.equal([proxy.status, proxy.json().code], [404, 'BH_NOT_FOUND'])
  assert.match((await hub.request('GET', '/healthz')).headers['content-type']!, /json/)
  assert.match((await hub.request('GET', '/metrics')).text(), /batlehub_http_requests_total/)
  assert.is((await hub.request('POST', '/explore')).status, 404)
  for (const p of ['/api', '/api/v1/x', '/proxy/npm/lodash', '/healthz', '/metrics', '/swagger-ui/']) assert.ok(isReservedPath(p), p)
  for (const p of ['/', '/explore', '/apiary', '/proxyish', '/metrics-dashboard']) assert.not.ok(isReservedPath(p), p)
})

Static('paths cannot leave the UI folder', async ({ hub }) => {
  for (const path of ['/assets/../../bh-ui-outside.txt', '/%2e%2e/bh-ui-outside.txt', '/assets/%2e%2e%2f%2e%2e%2fbh-ui-outside.txt', '/..%2fbh-ui-outside.txt', '/assets/%00.js']) {
    const res = await rawGet(hub.url, path)
    assert.is.not(res.body, 'outside', path)
    assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`)
  }
})

Static('plugin UI modules are listed and bundled with lit and the SDK left to the import map', async ({ hub }) => {
  const list = (await hub.request('GET', '/api/v1/ui/plugins')).json()
  assert.equal(list.plugins.filter((p: any) => p.id === 'demo'), [{ id: 'demo', kind: 'registry', module: '/ui/plugins/demo/index.js' }])
  const entry = await hub.request('GET', '/ui/plugins/demo/index.js')
  assert.is(entry.status, 200)
  assert.match(entry.headers['content-type']!, /^text\/javascript/)
  const code = entry.text()
  assert.match(code, /from"@batlehub\/sdk\/ui"/)
  assert.match(code, /bh-demo-install/)
  const chunks = [...code.matchAll(/import\("\.\/(chunk-[A-Z0-9]+\.js)"\)/g)].map((m) => m[1]!)
  assert.is(chunks.length, 2)
  for (const chunk of chunks) {
    const res = await hub.request('GET', `/ui/plugins/demo/${chunk}`)
    assert.is(res.status, 200)
    // One Lit in the page: the plugin imports it, never carries a copy.
    assert.match(res.text(), /from"lit"/)
    assert.not.match(res.text(), /customElements\.define|class \w+ extends HTMLElement/)
  }
  assert.is((await hub.request('GET', '/ui/plugins/demo/index.js', { headers: { 'if-none-match': entry.headers.etag! } })).status, 304)
  assert.is((await hub.request('GET', '/ui/plugins/demo/nope.js')).status, 404)
  assert.is((await hub.request('GET', '/ui/plugins/other/index.js')).status, 404)
})

Static('without a built UI the root explains how to build it', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'bh-ui-empty-'))
  const hub = await createTestKernel({ config: { server: { static_dir: empty } } })
  try {
    const res = await hub.request('GET', '/explore')
    assert.is(res.status, 503)
    assert.match(res.text(), /npm run build/)
    assert.is((await hub.request('GET', '/api/v1/registries')).status, 200)
  } finally {
    await hub.close()
    rmSync(empty, { recursive: true, force: true })
  }
})

Static('a manifest ui path outside the plugin package is ignored', () => {
  const plugin = (ui: string): LoadedPlugin => ({
    kind: 'registry', id: 'demo', packageName: 'demo', dir: DEMO_PLUGIN,
    manifest: { kind: 'registry', id: 'demo', sdk: '^1.0.0', entry: './src/index.ts', ui },
    definition: {} as never,
  })
  assert.is(pluginUiModules([plugin('./src/ui/index.ts')]).length, 1)
  assert.is(pluginUiModules([plugin('../../../../package.json')]).length, 0)
  assert.is(pluginUiModules([plugin('./src/ui/missing.ts')]).length, 0)
  assert.is(pluginUiModules([{ ...plugin('./src/ui/index.ts'), dir: undefined }]).length, 0)
})

Static('the CSP hashes every inline import map', () => {
  const csp = contentSecurityPolicy('<script type="importmap">{}</script>')
  assert.match(csp, `'sha256-${createHash('sha256').update('{}').digest('base64')}'`)
  assert.match(contentSecurityPolicy('<p>no scripts</p>'), "script-src 'self';")
})

Static.run()
