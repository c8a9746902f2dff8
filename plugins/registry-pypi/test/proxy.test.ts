import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { testDialects } from '@batlehub/kernel/testing'
import { startHub, get, type Hub } from './support/harness.ts'

const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json'
const sha256 = (b: Buffer | ArrayBuffer) => createHash('sha256').update(Buffer.from(b as ArrayBuffer)).digest('hex')

for (const database of testDialects()) {
  const Proxy = suite<{ hub: Hub }>(`pypi proxy (${database})`)

  Proxy.before.each(async (t) => {
    t.hub = await startHub({ mode: 'proxy', database })
  })
  Proxy.after.each(async (t) => {
    await t.hub.close()
  })

  Proxy('serves PEP 691 JSON to pip with hub URLs, hashes, yanks and core metadata', async ({ hub }) => {
    const res = await get(hub, '/simple/demo-lib/', { accept: PIP_ACCEPT })
    assert.is(res.status, 200)
    assert.is(res.headers.get('content-type'), JSON_TYPE)
    assert.match(res.headers.get('vary') ?? '', /Accept/)
    const doc = await res.json() as any
    assert.is(doc.name, 'demo-lib')
    assert.is(doc.meta['api-version'], '1.1')
    assert.equal(doc.versions, ['0.9.0', '1.0.0', '1.1.0', '2.0.0rc1'])
    const fx = hub.fixture!
    for (const f of doc.files) {
      const orig = fx.file(f.filename)
      assert.is(f.url, `${hub.base}/files/demo-lib/${f.filename}`)
      assert.equal(f.hashes, { sha256: orig.sha256 })
      assert.is(f.size, orig.body.length)
      assert.is(f['upload-time'], orig.uploadTime)
      assert.equal(f['core-metadata'], orig.coreMetadata ? { sha256: sha256(orig.metadata) } : false)
    }
    assert.is(doc.files.find((f: { filename: string }) => f.filename.startsWith('demo_lib-0.9.0')).yanked, 'broken build')
    assert.is(doc.files.find((f: { filename: string }) => f.filename === 'demo_lib-1.1.0-py3-none-any.whl')['requires-python'], '>=3.8')
    // Upstream file URLs stay private to the hub's own bookkeeping key (PEP 691 `_` keys).
    assert.not.match(JSON.stringify(doc.files), /packages\//)
  })

  Proxy('serves PEP 503 HTML to HTML clients, cached apart from the JSON form', async ({ hub }) => {
    const html = await get(hub, '/simple/demo-lib/', { accept: 'text/html' })
    assert.is(html.status, 200)
    assert.match(html.headers.get('content-type')!, /^text\/html/)
    const text = await html.text()
    const wheel = hub.fixture!.file('demo_lib-1.1.0-py3-none-any.whl')
    assert.ok(text.includes(`href="${hub.base}/files/demo-lib/demo_lib-1.1.0-py3-none-any.whl#sha256=${wheel.sha256}"`), text)
    assert.match(text, /data-requires-python="&gt;=3\.8"/)
    assert.match(text, /data-yanked="broken build"/)
    assert.match(text, new RegExp(`data-core-metadata="sha256=${sha256(wheel.metadata)}"`))
    const v1html = await get(hub, '/simple/demo-lib/', { accept: 'application/vnd.pypi.simple.v1+html' })
    assert.is(v1html.headers.get('content-type'), 'application/vnd.pypi.simple.v1+html')
    assert.is(await v1html.text(), text)
    const json = await get(hub, '/simple/demo-lib/', { accept: JSON_TYPE })
    assert.is(json.headers.get('content-type'), JSON_TYPE)
    await json.arrayBuffer()
    // One upstream fetch per form; the repeated HTML request was a cache hit.
    const pages = hub.fixture!.index.requests.filter((r) => r.path === '/simple/demo-lib/')
    assert.is(pages.length, 2)
    assert.match(String(pages[0]!.headers.accept), /text\/html/)
    assert.match(String(pages[1]!.headers.accept), /vnd\.pypi\.simple\.v1\+json/)
  })

  Proxy('redirects non-normalised names and refuses malformed ones', async ({ hub }) => {
    const r1 = await get(hub, '/simple/Demo_Lib/')
    assert.is(r1.status, 301)
    assert.is(r1.headers.get('location'), `${hub.base}/simple/demo-lib/`)
    const r2 = await get(hub, '/simple/demo-lib')
    assert.is(r2.status, 301)
    assert.is(r2.headers.get('location'), `${hub.base}/simple/demo-lib/`)
    for (const bad of ['/simple/-bad-/', '/simple/%2e%2e/', '/simple/a%20b/', '/simple/na%C3%AFve/']) {
      const res = await get(hub, bad)
      assert.is(res.status, 404, bad)
      assert.match(await res.text(), /<h1>404 /)
    }
    assert.is((await get(hub, '/simple/no-such-project/')).status, 404)
    // No upstream request for names that cannot exist.
    assert.not.ok(hub.fixture!.index.paths.some((p) => p.includes('bad') || p.includes('..')))
  })

  Proxy('root index: upstream names with relative links', async ({ hub }) => {
    const html = await (await get(hub, '/simple/')).text()
    assert.match(html, /<a href="demo-lib\/">demo-lib<\/a>/)
    assert.not.match(html, /href="\/simple\//)
    const json = await (await get(hub, '/simple/', { accept: JSON_TYPE })).json() as any
    assert.equal(json.projects.map((p: { name: string }) => p.name).sort(), ['demo-lib', 'tiny-dep'])
    assert.is((await get(hub, '/simple')).status, 301)
  })

  Proxy('downloads files once, verified against the index, and serves them warm with the upstream gone', async ({ hub }) => {
    const wheel = hub.fixture!.file('demo_lib-1.1.0-py3-none-any.whl')
    await (await get(hub, '/simple/demo-lib/', { accept: PIP_ACCEPT })).arrayBuffer()
    const cold = await get(hub, `/files/demo-lib/${wheel.filename}`)
    assert.is(cold.status, 200)
    assert.is(sha256(await cold.arrayBuffer()), wheel.sha256)
    const md = await get(hub, `/files/demo-lib/${wheel.filename}.metadata`)
    assert.is(md.status, 200)
    assert.is(Buffer.from(await md.arrayBuffer()).toString(), wheel.metadata.toString())
    const filePaths = hub.fixture!.files.paths
    assert.equal(filePaths, [wheel.path, `${wheel.path}.metadata`])
    await hub.fixture!.close()
    const warm = await get(hub, `/files/demo-lib/${wheel.filename}`)
    assert.is(warm.status, 200)
    assert.is(warm.headers.get('x-cache'), 'HIT')
    assert.is(sha256(await warm.arrayBuffer()), wheel.sha256)
  })

  Proxy('a file whose bytes do not match the index digest is never stored', async ({ hub }) => {
    const wheel = hub.fixture!.file('tiny_dep-1.2.0-py3-none-any.whl')
    hub.fixture!.files.route(`GET ${wheel.path}`, { body: Buffer.concat([wheel.body, Buffer.from('tampered')]) })
    const tampered = sha256(Buffer.concat([wheel.body, Buffer.from('tampered')]))
    // A 502 before the body, a cut-off body, or a dropped connection: never the tampered bytes as a success.
    let received: string | null = null
    try {
      const res = await get(hub, `/files/tiny-dep/${wheel.filename}`)
      if (res.status === 200) received = await res.arrayBuffer().then((b) => sha256(b), () => null)
      else assert.is(res.status, 502)
    } catch (err) {
      assert.is((err as Error).name, 'TypeError', String(err))
    }
    assert.is.not(received, tampered)
    hub.fixture!.files.route(`GET ${wheel.path}`, { body: wheel.body })
    const again = await get(hub, `/files/tiny-dep/${wheel.filename}`)
    assert.is(again.status, 200)
    assert.is(again.headers.get('x-cache'), 'MISS')
    assert.is(sha256(await again.arrayBuffer()), wheel.sha256)
  })

  Proxy('only files the upstream index lists are fetched: the hub is no open proxy', async ({ hub }) => {
    for (const path of ['/files/demo-lib/demo_lib-9.9.9-py3-none-any.whl', '/files/demo-lib/..%2F..%2Fetc%2Fpasswd', '/files/demo-lib/tiny_dep-1.2.0-py3-none-any.whl', '/files/demo-lib/demo_lib-1.0.0.tar.gz.metadata']) {
      const res = await get(hub, path)
      assert.is(res.status, 404, path)
    }
    assert.equal(hub.fixture!.files.paths, [])
  })

  Proxy('sdists need source:read', async ({ hub }) => {
    await hub.close()
    hub = await startHub({ mode: 'proxy', database, registry: { rbac: { anonymous: ['releases:read'], user: ['source:read'], admin: ['*'] } } })
    try {
      const sdist = hub.fixture!.file('demo_lib-1.0.0.tar.gz')
      const wheel = hub.fixture!.file('demo_lib-1.0.0-py3-none-any.whl')
      assert.is((await get(hub, `/files/demo-lib/${wheel.filename}`)).status, 200)
      const anon = await get(hub, `/files/demo-lib/${sdist.filename}`)
      assert.is(anon.status, 401)
      const user = await get(hub, `/files/demo-lib/${sdist.filename}`, { token: hub.kernel.userToken })
      assert.is(user.status, 200)
      assert.is(sha256(await user.arrayBuffer()), sdist.sha256)
    } finally {
      await hub.close()
    }
  })

  Proxy('JSON API: upstream documents with hub URLs', async ({ hub }) => {
    const doc = await (await get(hub, '/pypi/demo-lib/json')).json() as any
    assert.is(doc.info.version, '1.1.0')
    assert.ok(doc.urls.length > 0)
    for (const f of [...doc.urls, ...Object.values(doc.releases).flat() as Array<{ url: string; filename: string }>]) {
      assert.is(f.url, `${hub.base}/files/demo-lib/${f.filename}`)
    }
    const one = await (await get(hub, '/pypi/Demo_Lib/1.0.0/json')).json() as any
    assert.is(one.info.version, '1.0.0')
    assert.is((await get(hub, '/pypi/demo-lib/7.7.7/json')).status, 404)
    assert.is((await get(hub, '/pypi/-x-/json')).status, 404)
  })

  Proxy('hooks: versions with publish times, warming requests, exact-name search, snippets', async ({ hub }) => {
    const hooks = hub.hooks()
    assert.is(hooks.normalizeName!('Demo__Lib'), 'demo-lib')
    const versions = await hooks.listVersions!('demo-lib', {})
    assert.equal(versions!.map((v) => v.version), ['2.0.0rc1', '1.1.0', '1.0.0', '0.9.0'])
    const v110 = versions!.find((v) => v.version === '1.1.0')!
    assert.is(v110.publishedAt, new Date(hub.fixture!.file('demo_lib-1.1.0-py3-none-any.whl').uploadTime).toISOString())
    assert.ok(versions!.find((v) => v.version === '2.0.0rc1')!.prerelease)
    assert.ok(versions!.find((v) => v.version === '0.9.0')!.yanked)
    assert.is(await hooks.listVersions!('no-such-project', {}), null)
    const arts = await hooks.artifactsFor!('demo-lib', '1.1.0', {})
    assert.equal(arts.map((a) => a.key).sort(), ['files/demo-lib/demo_lib-1.1.0-py3-none-any.whl', 'files/demo-lib/demo_lib-1.1.0.tar.gz'])
    assert.is(arts[0]!.expect!.sha256, hub.fixture!.file(arts[0]!.key.split('/').pop()!).sha256)
    const hits = await hooks.searchUpstream!('Demo_Lib', { limit: 10 })
    assert.equal(hits, [{ name: 'demo-lib', latestVersion: '1.1.0', description: 'The demo-lib test package' }])
    assert.equal(await hooks.searchUpstream!('nothing-here', { limit: 10 }), [])
    const snippets = hooks.setupSnippets!({ baseUrl: hub.base, registryName: 'pypi', mode: 'proxy' })
    assert.ok(snippets.some((s) => s.content.includes(`index-url = ${hub.base}/simple/`)))
    assert.not.ok(snippets.some((s) => s.purpose === 'publish'))
  })

  Proxy('search_url sends exact-name lookups elsewhere; an empty one turns them off', async ({ hub }) => {
    const fixture = hub.fixture!
    const other = await startHub({ mode: 'proxy', database, registry: { search_url: `${fixture.index.url}/pypi` } })
    const off = await startHub({ mode: 'proxy', database, registry: { search_url: '' } })
    try {
      const before = other.fixture!.index.requests.length
      assert.equal((await other.hooks().searchUpstream!('tiny_dep', { limit: 5 })).map((h) => h.name), ['tiny-dep'])
      // Asked the search URL (the first hub's fixture), not its own upstream.
      assert.is(other.fixture!.index.requests.length, before)
      assert.ok(fixture.index.paths.includes('/pypi/tiny-dep/json'))
      assert.equal(await off.hooks().searchUpstream!('tiny-dep', { limit: 5 }), [])
      assert.not.ok(off.fixture!.index.paths.some((p) => p.startsWith('/pypi/')))
    } finally {
      await other.close()
      await off.close()
    }
  })

  Proxy.run()
}
