/**
 * Local mode, protocol-exact, on every database dialect: publish bodies as libnpmpublish sends
 * them, every bad input refused with an npm-style error and nothing stored, packuments rendered from
 * the store, the partial-unpublish request sequence of npm 10/11, dist-tags, deprecation, visibility.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { testDialects } from '@batlehub/kernel/testing'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import npm from '../src/index.ts'
import { makePackageTarball, makeTar, publishBody } from './support/fixtures.ts'

const ABBREV = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

function countFiles(dir: string): number {
  let n = 0
  let entries: string[] = []
  try {
    entries = readdirSync(dir)
  } catch {
    return 0
  }
  for (const e of entries) {
    const p = join(dir, e)
    n += statSync(p).isDirectory() ? countFiles(p) : 1
  }
  return n
}

for (const dialect of testDialects()) {
  const Local = suite<{ kernel: TestKernel }>(`npm local mode (${dialect})`)
  Local.before.each(async (t) => {
    t.kernel = await createTestKernel({
      plugins: [npm],
      database: dialect,
      config: { registries: [{ name: 'internal', type: 'npm', mode: 'local', max_artifact_bytes: 256 * 1024 }] },
    })
  })
  Local.after.each(async (t) => {
    await t.kernel.close()
  })

  const put = (kernel: TestKernel, path: string, body: unknown, token = kernel.adminToken) =>
    kernel.request('PUT', `/proxy/internal/${path}`, { token, body: typeof body === 'string' ? body : (body as Record<string, unknown>), headers: { 'content-type': 'application/json' } })

  Local('publish renders full and abbreviated packuments from the store; a repeat is 409', async ({ kernel }) => {
    const manifest = { name: '@acme/kit', version: '1.0.0', description: 'kit', license: 'MIT', dependencies: { dep: '^1.0.0' } }
    const tgz = await makePackageTarball(manifest, { 'index.js': 'x' })
    const res = await put(kernel, '@acme%2fkit', publishBody(manifest, tgz))
    assert.is(res.status, 201, res.text())
    const full = (await kernel.request('GET', '/proxy/internal/@acme%2fkit', { token: kernel.userToken })).json()
    assert.equal(full['dist-tags'], { latest: '1.0.0' })
    assert.is(full.versions['1.0.0'].dist.tarball, `${kernel.url}/proxy/internal/@acme/kit/-/kit-1.0.0.tgz`)
    assert.is(full.versions['1.0.0'].dist.integrity, publishBody(manifest, tgz).versions['1.0.0'].dist.integrity)
    assert.ok(full.time['1.0.0'])
    assert.is(full.readme, '# @acme/kit\n')
    assert.match(full._rev, /^\d+-/)
    const abbrev = await kernel.request('GET', '/proxy/internal/@acme/kit', { token: kernel.userToken, headers: { accept: ABBREV } })
    assert.is(abbrev.headers['content-type'], 'application/vnd.npm.install-v1+json')
    assert.equal(Object.keys(abbrev.json().versions['1.0.0']).sort(), ['dependencies', 'dist', 'license', 'name', 'version'])
    const tarball = await kernel.request('GET', '/proxy/internal/@acme/kit/-/kit-1.0.0.tgz', { token: kernel.userToken })
    assert.is(tarball.status, 200)
    assert.ok(tarball.body.equals(tgz))
    const again = await put(kernel, '@acme%2fkit', publishBody(manifest, tgz))
    assert.is(again.status, 409)
    assert.type(again.json().error, 'string')
    // Anonymous callers cannot read a local registry by default.
    assert.is((await kernel.request('GET', '/proxy/internal/@acme%2fkit')).status, 401)
  })

  Local('bad publishes get npm-style errors and store nothing', async ({ kernel }) => {
    const storage = join(kernel.dataDir, 'storage')
    const before = countFiles(storage)
    const manifest = { name: 'victim', version: '1.0.0' }
    const good = await makePackageTarball(manifest)
    const cases: Array<[string, string, unknown, number, RegExp, string?]> = []
    cases.push(['invalid name', 'Victim', publishBody({ name: 'Victim', version: '1.0.0' }, good), 400, /capital letters/])
    cases.push(['URL and body disagree', 'victim', publishBody({ name: 'other', version: '1.0.0' }, good), 400, /does not match the URL/])
    cases.push(['tarball of another version', 'victim', publishBody(manifest, await makePackageTarball({ name: 'victim', version: '6.6.6' })), 400, /has version "6.6.6"/])
    cases.push(['tarball of another package', 'victim', publishBody(manifest, await makePackageTarball({ name: 'evil', version: '1.0.0' })), 400, /names "evil"/])
    const noAtt = publishBody(manifest, good)
    delete noAtt._attachments
    cases.push(['no attachment, new version', 'victim', noAtt, 404, /not found/])
    const corrupt = publishBody(manifest, Buffer.from('this is not a tarball'))
    cases.push(['corrupt attachment', 'victim', corrupt, 400, /not gzip/])
    const wrongIntegrity = publishBody(manifest, good)
    wrongIntegrity.versions['1.0.0'].dist.integrity = `sha512-${randomBytes(64).toString('base64')}`
    cases.push(['integrity mismatch', 'victim', wrongIntegrity, 400, /does not match dist.integrity/])
    const escape = await makeTar([{ name: 'package/package.json', body: JSON.stringify(manifest) }, { name: 'package/../../evil.sh', body: 'rm -rf /' }])
    cases.push(['tar entry escaping package/', 'victim', publishBody(manifest, escape), 400, /escapes/])
    const link = await makeTar([{ name: 'package/package.json', body: JSON.stringify(manifest) }, { name: 'package/l', type: 'symlink', linkname: '/etc/shadow' }])
    cases.push(['symlink out', 'victim', publishBody(manifest, link), 400, /symlink/])
    cases.push(['malformed JSON', 'victim', '{"name": "victim", ', 400, /malformed JSON/])
    const big = await makePackageTarball(manifest, { 'blob.bin': randomBytes(300 * 1024) })
    cases.push(['body over max_artifact_bytes', 'victim', publishBody(manifest, big), 413, /exceeds|too large|limit/])
    const twoVersions = publishBody(manifest, good)
    twoVersions.versions['2.0.0'] = { ...twoVersions.versions['1.0.0'], version: '2.0.0' }
    cases.push(['two versions', 'victim', twoVersions, 400, /exactly one version/])
    const badTag = publishBody(manifest, good, { tag: '1.x' })
    cases.push(['tag that looks like a version', 'victim', badTag, 400, /invalid dist-tag/])
    for (const [what, path, body, status, message] of cases) {
      const res = await put(kernel, path, body)
      assert.is(res.status, status, `${what}: ${res.text()}`)
      assert.match(res.json().error, message, what)
      assert.is((await kernel.request('GET', '/proxy/internal/victim', { token: kernel.adminToken })).status, 404, what)
    }
    assert.is(countFiles(storage), before)
    // Who may publish.
    assert.is((await put(kernel, 'victim', publishBody(manifest, good), '')).status, 401)
    const user = await put(kernel, 'victim', publishBody(manifest, good), kernel.userToken)
    assert.is(user.status, 403)
    assert.type(user.json().error, 'string')
    assert.is((await put(kernel, 'victim', publishBody(manifest, good))).status, 201)
  })

  Local('npm 10/11 partial unpublish sequence, whole-package unpublish, dist-tags and deprecation', async ({ kernel }) => {
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      const m = { name: 'seq', version }
      assert.is((await put(kernel, 'seq', publishBody(m, await makePackageTarball(m)))).status, 201)
    }
    const t = { token: kernel.adminToken }
    // dist-tag add / ls / rm.
    const add = await kernel.request('PUT', '/proxy/internal/-/package/seq/dist-tags/stable', { ...t, body: '"1.1.0"', headers: { 'content-type': 'application/json' } })
    assert.is(add.status, 201)
    assert.equal((await kernel.request('GET', '/proxy/internal/-/package/seq/dist-tags', t)).json(), { latest: '2.0.0', stable: '1.1.0' })
    assert.is((await kernel.request('PUT', '/proxy/internal/-/package/seq/dist-tags/1.0', { ...t, body: '"1.1.0"', headers: { 'content-type': 'application/json' } })).status, 400)
    assert.is((await kernel.request('PUT', '/proxy/internal/-/package/seq/dist-tags/x', { ...t, body: '"9.9.9"', headers: { 'content-type': 'application/json' } })).status, 404)
    assert.is((await kernel.request('DELETE', '/proxy/internal/-/package/seq/dist-tags/latest', t)).status, 400)
    assert.is((await kernel.request('DELETE', '/proxy/internal/-/package/seq/dist-tags/stable', t)).status, 200)
    assert.equal((await kernel.request('GET', '/proxy/internal/-/package/seq/dist-tags', t)).json(), { latest: '2.0.0' })

    // Deprecate: GET ?write=true, PUT the whole packument.
    const doc = (await kernel.request('GET', '/proxy/internal/seq?write=true', t)).json()
    doc.versions['1.0.0'].deprecated = 'old'
    assert.is((await put(kernel, 'seq', doc)).status, 200)
    assert.is((await kernel.request('GET', '/proxy/internal/seq/1.0.0', t)).json().deprecated, 'old')

    // Partial unpublish of 2.0.0 (the latest), as libnpmpublish does it.
    const w = (await kernel.request('GET', '/proxy/internal/seq?write=true', t)).json()
    const dist = w.versions['2.0.0'].dist
    delete w.versions['2.0.0']
    w['dist-tags'].latest = '1.1.0'
    assert.is((await put(kernel, `seq/-rev/${w._rev}`, w)).status, 200)
    const rev = (await kernel.request('GET', '/proxy/internal/seq?write=true', t)).json()._rev
    // The tarball path arrives with the mount repeated: the registry URL plus the tarball's URL path.
    const tarballPath = new URL(dist.tarball).pathname.slice(1)
    assert.is((await kernel.request('DELETE', `/proxy/internal/${tarballPath}/-rev/${rev}`, t)).status, 200)
    const after = (await kernel.request('GET', '/proxy/internal/seq', t)).json()
    assert.equal(Object.keys(after.versions), ['1.0.0', '1.1.0'])
    assert.is(after['dist-tags'].latest, '1.1.0')
    assert.is((await kernel.request('GET', '/proxy/internal/seq/-/seq-2.0.0.tgz', t)).status, 404)
    // A new version without a tarball is refused.
    const sneaky = structuredClone(after)
    sneaky.versions['3.0.0'] = { ...sneaky.versions['1.1.0'], version: '3.0.0' }
    const refused = await put(kernel, 'seq', sneaky)
    assert.is(refused.status, 400)
    assert.match(refused.json().error, /has no tarball/)
    // Whole-package unpublish.
    assert.is((await kernel.request('DELETE', `/proxy/internal/seq/-rev/${after._rev}`, t)).status, 200)
    assert.is((await kernel.request('GET', '/proxy/internal/seq', t)).status, 404)
  })

  Local.run()
}
