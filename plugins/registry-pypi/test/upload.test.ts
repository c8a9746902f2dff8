import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { testDialects } from '@batlehub/kernel/testing'
import { startHub, upload, uploadForm, get, type Hub } from './support/harness.ts'
import { buildSdist, buildWheel, tarGz, zip, coreMetadata, type BuiltDist, type DistSpec } from './support/dists.ts'

const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json'
const sha256 = (b: Buffer | ArrayBuffer) => createHash('sha256').update(Buffer.from(b as ArrayBuffer)).digest('hex')
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')

/** A built distribution with new bytes (and digests). */
function withBody(d: BuiltDist, body: Buffer, filename = d.filename): BuiltDist {
  return { ...d, filename, body, sha256: sha256(body), md5: md5(body) }
}

/** A wheel whose archive holds `extra` entries after the regular ones. */
function hostileWheel(spec: DistSpec, extra: Parameters<typeof zip>[0]): BuiltDist {
  return buildWheel({ ...spec, extraZip: extra })
}

for (const database of testDialects()) {
  const Upload = suite<{ hub: Hub }>(`pypi uploads (${database})`)

  Upload.before.each(async (t) => {
    t.hub = await startHub({ mode: 'local', database, noUpstream: true, registry: { max_artifact_bytes: 256 * 1024, max_archive_entries: 50 } })
  })
  Upload.after.each(async (t) => {
    await t.hub.close()
  })

  /** Asserts nothing of `project` is visible. */
  async function nothingStored(hub: Hub, project: string): Promise<void> {
    const res = await get(hub, `/simple/${project}/`, { accept: PIP_ACCEPT, token: hub.kernel.adminToken })
    assert.is(res.status, 404, `${project} should not exist`)
  }

  Upload('stores a wheel and an sdist of one release, with PEP 658 metadata', async ({ hub }) => {
    const spec = { name: 'Up-Lib', version: '1.0.0', requiresPython: '>=3.9', requiresDist: ['tiny-dep>=1'] }
    const wheel = buildWheel(spec)
    const sdist = await buildSdist(spec)
    const r1 = await upload(hub, uploadForm(wheel, { name: 'Up-Lib', version: '1.0.0', requires_python: '>=3.9', requires_dist: ['tiny-dep>=1'] }))
    assert.is(r1.status, 200, r1.text)
    const r2 = await upload(hub, uploadForm(sdist, { name: 'Up-Lib', version: '1.0', requires_python: '>=3.9' }))
    assert.is(r2.status, 200, r2.text)
    const page = await (await get(hub, '/simple/up-lib/', { accept: PIP_ACCEPT, token: hub.kernel.userToken })).json() as any
    assert.equal(page.files.map((f: { filename: string }) => f.filename), [wheel.filename, sdist.filename])
    assert.equal(page.versions, ['1.0.0'])
    const [w, s] = page.files
    assert.equal(w.hashes.sha256, wheel.sha256)
    assert.is(w['requires-python'], '>=3.9')
    assert.equal(w['core-metadata'], { sha256: sha256(wheel.metadata) })
    assert.is(s['core-metadata'], false)
    const md = await get(hub, `/files/up-lib/${wheel.filename}.metadata`, { token: hub.kernel.userToken })
    assert.is(Buffer.from(await md.arrayBuffer()).toString(), wheel.metadata.toString())
    const dl = await get(hub, `/files/up-lib/${sdist.filename}`, { token: hub.kernel.userToken })
    assert.is(sha256(await dl.arrayBuffer()), sdist.sha256)
    const api = await (await get(hub, '/pypi/up-lib/json', { token: hub.kernel.userToken })).json() as any
    assert.is(api.info.name, 'Up-Lib')
    assert.is(api.info.version, '1.0.0')
    assert.equal(api.info.requires_dist, ['tiny-dep>=1'])
    assert.equal(api.info.project_urls, { Homepage: 'https://example.org/project' })
    assert.is(api.urls.length, 2)
    assert.is((await (await get(hub, '/pypi/up-lib/1.0/json', { token: hub.kernel.userToken })).json() as any).info.version, '1.0.0')
    const html = await (await get(hub, '/simple/', { token: hub.kernel.userToken })).text()
    assert.match(html, /<a href="up-lib\/">Up-Lib<\/a>/)
    const versions = await hub.hooks().listVersions!('up-lib', {})
    assert.equal(versions!.map((v) => v.version), ['1.0.0'])
  })

  Upload('a repeated file name is "400 File already exists", whatever its content', async ({ hub }) => {
    const wheel = buildWheel({ name: 'dup-lib', version: '1.0' })
    assert.is((await upload(hub, uploadForm(wheel, { name: 'dup-lib', version: '1.0' }))).status, 200)
    const again = await upload(hub, uploadForm(wheel, { name: 'dup-lib', version: '1.0' }))
    assert.is(again.status, 400)
    assert.match(again.reason, /^File already exists \("dup_lib-1\.0-py3-none-any\.whl"/)
    assert.match(again.text, /<title>400 File already exists/)
    const other = buildWheel({ name: 'dup-lib', version: '1.0', code: 'x = 2\n' })
    assert.is((await upload(hub, uploadForm(other, { name: 'dup-lib', version: '1.0' }))).status, 400)
  })

  Upload('refuses a wrong sha256_digest, and a missing digest, storing nothing', async ({ hub }) => {
    const wheel = buildWheel({ name: 'bad-digest', version: '1.0' })
    const res = await upload(hub, uploadForm(wheel, { name: 'bad-digest', version: '1.0', sha256_digest: 'f'.repeat(64) }))
    assert.is(res.status, 400)
    assert.is(res.reason, 'The digest supplied does not match a digest calculated from the uploaded file.')
    const none = await upload(hub, uploadForm(wheel, { name: 'bad-digest', version: '1.0', sha256_digest: undefined, md5_digest: undefined }))
    assert.is(none.status, 400)
    assert.match(none.reason, /at least one message digest/)
    await nothingStored(hub, 'bad-digest')
  })

  Upload('refuses malformed names and versions', async ({ hub }) => {
    const wheel = buildWheel({ name: 'ok-name', version: '1.0' })
    for (const name of ['-bad', '../etc/passwd', 'a b', '']) {
      const res = await upload(hub, uploadForm(wheel, { name, version: '1.0' }))
      assert.is(res.status, 400, name)
      assert.match(res.reason, /invalid value for Name/)
    }
    const res = await upload(hub, uploadForm(wheel, { name: 'ok-name', version: '1.0/../2' }))
    assert.is(res.status, 400)
    assert.match(res.reason, /invalid value for Version/)
    await nothingStored(hub, 'ok-name')
  })

  Upload('the file name, the form and the archive metadata must agree', async ({ hub }) => {
    const wheel = buildWheel({ name: 'agree', version: '1.0' })
    const r1 = await upload(hub, uploadForm(wheel, { name: 'other', version: '1.0' }))
    assert.is(r1.status, 400)
    assert.match(r1.reason, /^Start filename for "other" with "other"/)
    const r2 = await upload(hub, uploadForm(wheel, { name: 'agree', version: '2.0' }))
    assert.match(r2.reason, /^Version in filename should be "2\.0" not "1\.0"/)
    const lying = buildWheel({ name: 'agree', version: '1.0', metadataName: 'someone-else' })
    const r3 = await upload(hub, uploadForm(lying, { name: 'agree', version: '1.0' }))
    assert.is(r3.status, 400)
    assert.match(r3.reason, /^Name in agree-1\.0\.dist-info\/METADATA \("someone-else"\) does not match/)
    const older = await buildSdist({ name: 'agree', version: '1.0', metadataVersion: '0.9' })
    const r4 = await upload(hub, uploadForm(older, { name: 'agree', version: '1.0' }))
    assert.match(r4.reason, /^Version in agree-1\.0\/PKG-INFO \("0\.9"\) does not match/)
    const r5 = await upload(hub, uploadForm(wheel, { name: 'agree', version: '1.0', filetype: 'sdist' }))
    assert.match(r5.reason, /^Invalid value for filetype/)
    const egg = withBody(wheel, wheel.body, 'agree-1.0-py3.8.egg')
    assert.match((await upload(hub, uploadForm(egg, { name: 'agree', version: '1.0' }))).reason, /^Invalid distribution file name/)
    const r6 = await upload(hub, uploadForm(wheel, { name: 'agree', version: '1.0', ':action': 'remove_pkg' }))
    assert.match(r6.reason, /^Unknown action/)
    await nothingStored(hub, 'agree')
  })

  Upload('refuses hostile archives: traversal, absolute paths, links, bombs, not-a-zip', async ({ hub }) => {
    const spec = { name: 'evil', version: '1.0' }
    const cases: Array<[string, BuiltDist, RegExp]> = [
      ['zip slip', hostileWheel(spec, [{ name: '../../evil.py', data: 'x' }]), /escapes the archive/],
      ['absolute path', hostileWheel(spec, [{ name: '/etc/cron.d/evil', data: 'x' }]), /absolute path/],
      ['backslash traversal', hostileWheel(spec, [{ name: '..\\..\\evil.py', data: 'x' }]), /escapes the archive|backslash/],
      ['symlink', hostileWheel(spec, [{ name: 'evil/link', data: '/etc/passwd', mode: 0o120777 }]), /link or special file/],
      ['duplicate entry', hostileWheel(spec, [{ name: 'evil/__init__.py', data: 'y' }]), /duplicate entry/],
      // Declares 40 GiB in total without containing it: refused from the entry list, nothing inflated.
      ['zip bomb', hostileWheel(spec, Array.from({ length: 10 }, (_, i) => ({ name: `evil/bomb${i}.bin`, data: Buffer.alloc(0), declaredSize: 0xfffffff0 }))), /expands past/],
      ['not a zip', withBody(buildWheel(spec), Buffer.from('this is not a zip file at all')), /not a valid zip/],
      // METADATA claims 200 bytes and inflates to 8 MiB: cut off while inflating.
      ['lying METADATA size', withBody(buildWheel(spec), zip([
        { name: 'evil-1.0.dist-info/WHEEL', data: 'Wheel-Version: 1.0\n' },
        { name: 'evil-1.0.dist-info/METADATA', data: Buffer.concat([Buffer.from(coreMetadata(spec)), Buffer.alloc(8 * 1024 * 1024, 32)]), declaredSize: 200 },
      ])), /too many bytes in the stream/],
    ]
    for (const [what, dist, reason] of cases) {
      const res = await upload(hub, uploadForm(dist, { name: 'evil', version: '1.0' }))
      assert.ok(res.status === 400 || res.status === 413, `${what}: ${res.status} ${res.reason}`)
      assert.match(res.reason, reason, `${what}: ${res.reason}`)
    }
    const top = 'evil-1.0'
    const pkgInfo = coreMetadata(spec)
    const tars: Array<[string, Parameters<typeof tarGz>[0], RegExp]> = [
      ['tar traversal', [{ name: `${top}/PKG-INFO`, data: pkgInfo }, { name: `${top}/../../evil`, data: 'x' }], /escapes the archive/],
      ['tar absolute', [{ name: `${top}/PKG-INFO`, data: pkgInfo }, { name: '/tmp/evil', data: 'x' }], /absolute path/],
      ['tar symlink', [{ name: `${top}/PKG-INFO`, data: pkgInfo }, { name: `${top}/link`, type: 'symlink', linkname: '/etc/passwd' }], /symlink/],
      ['tar hard link', [{ name: `${top}/PKG-INFO`, data: pkgInfo }, { name: `${top}/hard`, type: 'link', linkname: `${top}/PKG-INFO` }], /link/],
      ['two top-level directories', [{ name: `${top}/PKG-INFO`, data: pkgInfo }, { name: 'other/x', data: 'x' }], /one top-level directory/],
      ['no PKG-INFO', [{ name: `${top}/setup.py`, data: 'x' }], /no PKG-INFO/],
    ]
    for (const [what, entries, reason] of tars) {
      const body = await tarGz(entries)
      const dist = { filename: `${top}.tar.gz`, body, sha256: sha256(body), md5: md5(body) }
      const res = await upload(hub, uploadForm(dist, { name: 'evil', version: '1.0' }))
      assert.is(res.status, 400, `${what}: ${res.reason}`)
      assert.match(res.reason, reason, `${what}: ${res.reason}`)
    }
    await nothingStored(hub, 'evil')
  })

  Upload('refuses archives with more entries than max_archive_entries', async ({ hub }) => {
    const many = buildWheel({ name: 'many-lib', version: '1.0', extraZip: Array.from({ length: 60 }, (_, i) => ({ name: `many_lib/m${i}.py`, data: '' })) })
    const res = await upload(hub, uploadForm(many, { name: 'many-lib', version: '1.0' }))
    assert.is(res.status, 413)
    assert.match(res.reason, /more than 50 entries/)
    await nothingStored(hub, 'many-lib')
  })

  Upload('refuses an upload past the size limit with 413, storing nothing', async ({ hub }) => {
    const big = buildWheel({ name: 'big-lib', version: '1.0', extraZip: [{ name: 'big_lib/blob.bin', data: Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 7919) % 251)), store: true }] })
    const res = await upload(hub, uploadForm(big, { name: 'big-lib', version: '1.0' }))
    assert.is(res.status, 413)
    await nothingStored(hub, 'big-lib')
  })

  Upload('uploads need releases:write and credentials', async ({ hub }) => {
    const wheel = buildWheel({ name: 'auth-lib', version: '1.0' })
    const anon = await fetch(`${hub.base}/legacy/`, { method: 'POST', body: uploadForm(wheel, { name: 'auth-lib', version: '1.0' }) })
    assert.is(anon.status, 401)
    assert.match(anon.headers.get('www-authenticate') ?? '', /Basic/)
    const user = await upload(hub, uploadForm(wheel, { name: 'auth-lib', version: '1.0' }), hub.kernel.userToken)
    assert.is(user.status, 403)
    await nothingStored(hub, 'auth-lib')
  })

  Upload.run()
}
