import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { qualified } from '../src/db/sql.ts'
import { footprint, localHub, put, recordEvents, TOKENS } from './local-helpers.ts'

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
const { root, alice, bob, carol, dave } = TOKENS

for (const dialect of testDialects()) {
  const Local = suite<{ hub: KernelTestHandle; events: ReturnType<typeof recordEvents> }>(`local store (${dialect})`)

  Local.before.each(async (t) => {
    t.hub = await localHub(dialect)
    t.events = recordEvents(t.hub)
  })
  Local.after.each(async (t) => {
    await t.hub.close()
  })

  Local('publish, then read the package and download its file with Range, ETag and 304', async ({ hub, events }) => {
    const content = 'hello, private world'
    const res = await put(hub, 'pkgs', alice, 'Left_Pad', '1.0.0', 'left-pad-1.0.0.tgz', content, { 'x-sha256': sha256(content) }, '?tag=latest&description=pads')
    assert.is(res.status, 201, res.text())
    const body = res.json()
    assert.is(body.name, 'Left_Pad')
    assert.is(body.created, true)
    assert.is(body.files[0].sha256, sha256(content))
    assert.is(body.files[0].digests.sha1, createHash('sha1').update(content).digest('hex'))
    assert.is(body.files[0].digests.md5, createHash('md5').update(content).digest('hex'))
    assert.is(body.files[0].digests.sha512, createHash('sha512').update(content).digest('hex'))
    assert.is(res.headers['x-quota-storage-used'], String(content.length))
    assert.is(res.headers['x-quota-packages-used'], '1')

    // Names are compared in the plugin's normalised form.
    const info = (await hub.request('GET', '/proxy/pkgs/packages/left.pad')).json()
    assert.is(info.name, 'Left_Pad')
    assert.is(info.normalizedName, 'left-pad')
    assert.is(info.description, 'pads')
    assert.is(info.visibility, 'public')
    assert.equal(info.tags, { latest: '1.0.0' })
    assert.is(info.versions.length, 1)
    const v = info.versions[0]
    assert.is(v.version, '1.0.0')
    assert.is(v.publishedBy, 'alice')
    assert.is(v.yanked, false)
    assert.is(v.prerelease, false)
    assert.equal(v.metadata, { via: 'put' })
    assert.equal(v.files[0].metadata, { field: 'file' })
    assert.is(v.files[0].size, content.length)
    assert.is(v.files[0].contentType, 'application/octet-stream')

    const exists = await hub.request('GET', '/proxy/pkgs/exists/LEFT-PAD')
    assert.equal(exists.json(), { exists: true })
    assert.equal((await hub.request('GET', '/proxy/pkgs/exists/right-pad')).json(), { exists: false })

    const file = await hub.request('GET', '/proxy/pkgs/files/left-pad/1.0.0/left-pad-1.0.0.tgz')
    assert.is(file.status, 200)
    assert.is(file.text(), content)
    assert.is(file.headers.etag, `"${sha256(content)}"`)
    assert.is(file.headers['content-length'], String(content.length))
    assert.is(file.headers['x-artifact-signature'], undefined)
    const part = await hub.request('GET', '/proxy/pkgs/files/left-pad/1.0.0/left-pad-1.0.0.tgz', { headers: { range: 'bytes=7-13' } })
    assert.is(part.status, 206)
    assert.is(part.text(), 'private')
    const again = await hub.request('GET', '/proxy/pkgs/files/left-pad/1.0.0/left-pad-1.0.0.tgz', { headers: { 'if-none-match': file.headers.etag! } })
    assert.is(again.status, 304)
    const missing = await hub.request('GET', '/proxy/pkgs/files/left-pad/1.0.0/other.tgz')
    assert.is(missing.status, 404)
    const opened = await hub.request('GET', '/proxy/pkgs/open/left-pad/1.0.0/left-pad-1.0.0.tgz', { token: alice })
    assert.is(opened.text(), content)

    // Downloads are counted in memory and flushed in batches: one full GET, not the range or the 304.
    await hub.kernel.accounting.flush()
    const rows = await hub.kernel.db.execute(`select package_name, package_version, download_count from ${qualified(hub.kernel.db, 'package_statuses')} where registry = 'pkgs'`)
    assert.equal(rows.map((r) => [r.package_name, r.package_version, Number(r.download_count)]), [['left-pad', '1.0.0', 1]])

    assert.equal(events.map((e) => e.event), ['core:package.published'])
    assert.equal({ ...events[0]!.payload, at: undefined }, {
      registry: 'pkgs', name: 'Left_Pad', version: '1.0.0', actor: { subject: events[0]!.payload.actor.subject, userId: 'alice', role: 'user' }, at: undefined,
    })

    const search = (await hub.request('GET', '/proxy/pkgs/search?q=PAD')).json()
    assert.equal(search, { total: 1, items: [{ name: 'Left_Pad', description: 'pads', latest: '1.0.0', updatedAt: info.updatedAt }] })
    assert.is((await hub.request('GET', '/proxy/pkgs/search?q=zzz')).json().total, 0)
  })

  Local('a repeated version is 409; appendToExisting adds files but a repeated file name is still 409', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', alice, 'lib', '1.0.0', 'lib-1.0.0.tar.gz', 'sdist')).status, 201)
    const dup = await put(hub, 'pkgs', alice, 'lib', '1.0.0', 'lib-1.0.0-py3-none-any.whl', 'wheel')
    assert.is(dup.status, 409, dup.text())
    const sameNormalised = await put(hub, 'pkgs', alice, 'LIB', '1.0.0', 'x.tgz', 'x')
    assert.is(sameNormalised.status, 409)
    const added = await put(hub, 'pkgs', alice, 'lib', '1.0.0', 'lib-1.0.0-py3-none-any.whl', 'wheel', {}, '?append=1')
    assert.is(added.status, 201, added.text())
    assert.is(added.json().created, false)
    const again = await put(hub, 'pkgs', alice, 'lib', '1.0.0', 'lib-1.0.0-py3-none-any.whl', 'other wheel', {}, '?append=1')
    assert.is(again.status, 409)
    const info = (await hub.request('GET', '/proxy/pkgs/packages/lib')).json()
    assert.equal(info.versions[0].files.map((f: any) => f.filename), ['lib-1.0.0.tar.gz', 'lib-1.0.0-py3-none-any.whl'])
    // A new version via append creates it.
    assert.is((await put(hub, 'pkgs', alice, 'lib', '1.1.0', 'lib-1.1.0.tar.gz', 'sdist 2', {}, '?append=1')).status, 201)
    const fp = await footprint(hub)
    assert.is(fp.refs, 3, 'refused uploads left no storage keys')
    assert.is(fp.files, 3)
  })

  Local('concurrent appends to a new version both land, and both count towards the quota', async ({ hub }) => {
    const results = await Promise.all([
      put(hub, 'pkgs', alice, 'multi-file', '1.0.0', 'a.whl', 'aaa', {}, '?append=1'),
      put(hub, 'pkgs', alice, 'multi-file', '1.0.0', 'b.whl', 'bbbb', {}, '?append=1'),
      put(hub, 'pkgs', alice, 'multi-file', '1.0.0', 'c.tar.gz', 'ccccc', {}, '?append=1'),
    ])
    assert.equal(results.map((r) => r.status), [201, 201, 201], results.map((r) => r.text()).join(' | '))
    const info = (await hub.request('GET', '/proxy/pkgs/packages/multi-file')).json()
    assert.is(info.versions.length, 1)
    assert.equal(info.versions[0].files.map((f: any) => f.filename).sort(), ['a.whl', 'b.whl', 'c.tar.gz'])
    const next = await put(hub, 'pkgs', alice, 'other', '1.0.0', 'o.tgz', 'o')
    assert.is(next.headers['x-quota-storage-used'], String(3 + 4 + 5 + 1))
    assert.is(next.headers['x-quota-packages-used'], '2')
  })

  Local('the first publisher becomes admin owner; others are refused; group owners and admins may publish', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', alice, 'core', '1.0.0', 'core.tgz', 'a')).status, 201)
    assert.equal((await hub.request('GET', '/proxy/pkgs/owners/core')).json(), [{ principalType: 'user', principalId: 'alice', role: 'admin' }])
    const carolTry = await put(hub, 'pkgs', carol, 'core', '1.0.1', 'core.tgz', 'c')
    assert.is(carolTry.status, 403, carolTry.text())
    assert.match(carolTry.json().error, /not an owner/)
    assert.equal((await hub.request('GET', '/proxy/pkgs/can-manage/core', { token: carol })).json(), { canManage: false })
    assert.equal((await hub.request('GET', '/proxy/pkgs/can-manage/core', { token: alice })).json(), { canManage: true })
    assert.equal((await hub.request('GET', '/proxy/pkgs/can-manage/core', { token: root })).json(), { canManage: true })
    // Anonymous publishing is refused before the plugin by RBAC.
    assert.is((await put(hub, 'pkgs', undefined, 'core', '1.0.2', 'core.tgz', 'x')).status, 401)

    // Alice adds the backend team as maintainer: Carol (a member) may now publish and yank, not manage owners.
    assert.is((await hub.request('PUT', '/proxy/pkgs/owners/core/group/oidc%3Abackend-team/maintainer', { token: alice })).status, 204)
    assert.is((await put(hub, 'pkgs', carol, 'core', '1.0.1', 'core.tgz', 'c')).status, 201)
    assert.is((await hub.request('POST', '/proxy/pkgs/yank/core/1.0.1', { token: carol })).status, 204)
    const carolOwners = await hub.request('PUT', '/proxy/pkgs/owners/core/user/carol/admin', { token: carol })
    assert.is(carolOwners.status, 403, carolOwners.text())
    assert.is((await put(hub, 'pkgs', bob, 'core', '1.0.2', 'core.tgz', 'b')).status, 403)

    // A hub admin overrides ownership; the publisher of a version is recorded, the owner table is unchanged.
    assert.is((await put(hub, 'pkgs', root, 'core', '1.0.3', 'core.tgz', 'r')).status, 201)
    const owners = (await hub.request('GET', '/proxy/pkgs/owners/core')).json()
    assert.equal(owners, [
      { principalType: 'user', principalId: 'alice', role: 'admin' },
      { principalType: 'group', principalId: 'oidc:backend-team', role: 'maintainer' },
    ])
    const info = (await hub.request('GET', '/proxy/pkgs/packages/core')).json()
    assert.equal(info.versions.map((v: any) => [v.version, v.publishedBy]), [['1.0.3', 'root'], ['1.0.1', 'carol'], ['1.0.0', 'alice']])
  })

  Local('the last admin owner cannot be removed or demoted', async ({ hub }) => {
    assert.is((await put(hub, 'pkgs', alice, 'solo', '1.0.0', 'solo.tgz', 'a')).status, 201)
    const self = await hub.request('DELETE', '/proxy/pkgs/owners/solo/user/alice', { token: alice })
    assert.is(self.status, 409, self.text())
    assert.match(self.json().error, /last admin owner/)
    assert.is((await hub.request('DELETE', '/proxy/pkgs/owners/solo/user/alice', { token: root })).status, 409, 'not even by a hub admin')
    assert.is((await hub.request('PUT', '/proxy/pkgs/owners/solo/user/alice/maintainer', { token: alice })).status, 409)
    assert.is((await hub.request('PUT', '/proxy/pkgs/owners/solo/user/bob/admin', { token: alice })).status, 204)
    assert.is((await hub.request('DELETE', '/proxy/pkgs/owners/solo/user/alice', { token: alice })).status, 204)
    assert.equal((await hub.request('GET', '/proxy/pkgs/owners/solo')).json(), [{ principalType: 'user', principalId: 'bob', role: 'admin' }])
    assert.is((await put(hub, 'pkgs', alice, 'solo', '1.0.1', 'solo.tgz', 'a')).status, 403, 'a removed owner can no longer publish')
    assert.is((await hub.request('DELETE', '/proxy/pkgs/owners/solo/user/nobody', { token: bob })).status, 404)
    assert.is((await hub.request('PUT', '/proxy/pkgs/owners/solo/robot/x/admin', { token: bob })).status, 400)
  })

  Local('namespace claims: longest prefix wins; members and admins publish, others get 403', async ({ hub }) => {
    const claim = (prefix: string, group_id: string) => hub.request('POST', '/api/v1/admin/registries/pkgs/namespaces', { token: root, body: { prefix, group_id } })
    assert.is((await claim('frontend/', 'oidc:frontend-team')).status, 201)
    assert.is((await claim('frontend/secret/', 'oidc:backend-team')).status, 201)
    assert.is((await put(hub, 'pkgs', bob, 'frontend/utils', '1.0.0', 'u.tgz', 'u')).status, 201)
    const carolTry = await put(hub, 'pkgs', carol, 'frontend/widgets', '1.0.0', 'w.tgz', 'w')
    assert.is(carolTry.status, 403)
    assert.match(carolTry.json().error, /namespace "frontend\/" claimed by group oidc:frontend-team/)
    // The longer claim governs names below it: the frontend team is out, the backend team in.
    assert.is((await put(hub, 'pkgs', bob, 'frontend/secret/keys', '1.0.0', 'k.tgz', 'k')).status, 403)
    assert.is((await put(hub, 'pkgs', carol, 'frontend/secret/keys', '1.0.0', 'k.tgz', 'k')).status, 201)
    assert.is((await put(hub, 'pkgs', root, 'frontend/admin-tool', '1.0.0', 'a.tgz', 'a')).status, 201)
    assert.is((await put(hub, 'pkgs', alice, 'unclaimed', '1.0.0', 'x.tgz', 'x')).status, 201)
    // A claim does not replace ownership: another member of the group is not an owner of bob's package.
    assert.is((await put(hub, 'pkgs', dave, 'frontend/utils', '1.0.1', 'u.tgz', 'u')).status, 403)
    assert.is((await put(hub, 'pkgs', dave, 'frontend/new', '1.0.0', 'n.tgz', 'n')).status, 201)
    // Released claims stop applying.
    assert.is((await hub.request('DELETE', '/api/v1/admin/registries/pkgs/namespaces/frontend/', { token: root })).status, 200)
    assert.is((await put(hub, 'pkgs', carol, 'frontend/widgets', '1.0.0', 'w.tgz', 'w')).status, 201)
  })

  Local('visibility public, internal and team governs reads, downloads and search', async ({ hub }) => {
    await hub.request('POST', '/api/v1/admin/registries/pkgs/namespaces', { token: root, body: { prefix: 'fe-', group_id: 'oidc:frontend-team' } })
    assert.is((await put(hub, 'pkgs', bob, 'fe-kit', '1.0.0', 'kit.tgz', 'kit')).status, 201)
    const setVisibility = (visibility: string) => hub.request('PUT', '/api/v1/admin/registries/pkgs/packages/fe-kit/visibility', { token: root, body: { visibility } })
    const can = async (token: string | undefined) => {
      const meta = await hub.request('GET', '/proxy/pkgs/packages/fe-kit', { token })
      const file = await hub.request('GET', '/proxy/pkgs/files/fe-kit/1.0.0/kit.tgz', { token })
      const search = (await hub.request('GET', '/proxy/pkgs/search?q=kit', { token })).json()
      assert.is(meta.status, file.status, 'metadata and files agree')
      assert.is(search.total, meta.status === 200 ? 1 : 0, 'search agrees')
      return meta.status === 200
    }
    const who = async () => [await can(undefined), await can(alice), await can(bob), await can(dave), await can(carol), await can(root)]
    assert.equal(await who(), [true, true, true, true, true, true])
    assert.is((await setVisibility('internal')).status, 200)
    assert.equal(await who(), [false, true, true, true, true, true])
    assert.is((await setVisibility('team')).json().visibility, 'team')
    assert.equal(await who(), [false, false, true, true, false, true])
    // An owner outside the team still sees the package they own.
    await hub.request('PUT', '/proxy/pkgs/owners/fe-kit/user/alice/maintainer', { token: bob })
    assert.equal(await who(), [false, true, true, true, false, true])
    // New versions inherit the visibility.
    assert.is((await put(hub, 'pkgs', bob, 'fe-kit', '1.1.0', 'kit.tgz', 'kit 2')).status, 201)
    assert.is((await hub.request('GET', '/api/v1/admin/registries/pkgs/packages/fe-kit/visibility', { token: root })).json().visibility, 'team')
    assert.is((await hub.request('GET', '/proxy/pkgs/files/fe-kit/1.1.0/kit.tgz', { token: carol })).status, 404)
    assert.is((await hub.request('GET', '/proxy/pkgs/files/fe-kit/1.1.0/kit.tgz', { token: dave })).status, 200)
    // A hidden package cannot be managed by someone who cannot see it either: it is absent to them.
    assert.is((await hub.request('POST', '/proxy/pkgs/yank/fe-kit/1.0.0', { token: carol })).status, 404)
  })

  Local('versioning policy refuses with 422 naming the rule', async ({ hub }) => {
    const cases: Array<[string, string, number, RegExp | null]> = [
      ['strict', '1.2.3', 201, null],
      ['strict', 'banana', 422, /enforce_semver/],
      ['strict', '1.2', 422, /enforce_semver/],
      ['strict', '2.0.0-beta.1', 422, /allow_prerelease/],
      ['strict', 'v1.2.4', 422, /version_pattern/],
      ['loose', 'x1', 422, /version_pattern/],
      ['loose', '1.0rc1', 201, null],
      ['loose', '2024.1', 201, null],
    ]
    for (const [registry, version, status, rule] of cases) {
      const res = await put(hub, registry, alice, 'ver', version, 'f.bin', 'x')
      assert.is(res.status, status, `${registry} ${version}: ${res.text()}`)
      if (rule) {
        assert.match(res.json().error, rule)
        assert.is(res.json().code, 'BH_UNPROCESSABLE')
      }
    }
    const info = (await hub.request('GET', '/proxy/loose/packages/ver')).json()
    assert.equal(info.versions.map((v: any) => [v.version, v.prerelease]), [['2024.1', false], ['1.0rc1', true]])
    // The protocol's own pre-release rule, when the plugin passes it, wins over the heuristic.
    assert.is((await put(hub, 'strict', alice, 'ver', '3.0.0', 'f.bin', 'x', {}, '?prerelease=1')).status, 422)
    assert.is((await footprint(hub)).refs, 3, 'refused versions stored nothing')
  })

  Local('signing: required (400), allowed types (403), signature headers on download', async ({ hub }) => {
    const missing = await put(hub, 'signed', alice, 'sig', '1.0.0', 'sig.tgz', 'x')
    assert.is(missing.status, 400)
    assert.match(missing.json().error, /X-Artifact-Signature/)
    const wrongType = await put(hub, 'signed', alice, 'sig', '1.0.0', 'sig.tgz', 'x', { 'x-artifact-signature': 'c2ln', 'x-signature-type': 'x509' })
    assert.is(wrongType.status, 403)
    assert.match(wrongType.json().error, /signing.allowed_types/)
    const noType = await put(hub, 'signed', alice, 'sig', '1.0.0', 'sig.tgz', 'x', { 'x-artifact-signature': 'c2ln' })
    assert.is(noType.status, 400)
    const ok = await put(hub, 'signed', alice, 'sig', '1.0.0', 'sig.tgz', 'x', { 'x-artifact-signature': 'LS0tLS1CRUdJTg==', 'x-signature-type': 'pgp' })
    assert.is(ok.status, 201, ok.text())
    const file = await hub.request('GET', '/proxy/signed/files/sig/1.0.0/sig.tgz')
    assert.is(file.headers['x-artifact-signature'], 'LS0tLS1CRUdJTg==')
    assert.is(file.headers['x-signature-type'], 'pgp')
    const head = await hub.request('HEAD', '/proxy/signed/files/sig/1.0.0/sig.tgz')
    assert.is(head.headers['x-signature-type'], 'pgp')
    assert.equal((await hub.request('GET', '/proxy/signed/packages/sig')).json().versions[0].signature, { value: 'LS0tLS1CRUdJTg==', type: 'pgp' })
    // A registry without a signing policy stores a signature sent anyway.
    assert.is((await put(hub, 'pkgs', alice, 'sig', '1.0.0', 'sig.tgz', 'x', { 'x-artifact-signature': 'AAAA', 'x-signature-type': 'ed25519' })).status, 201)
    assert.is((await hub.request('GET', '/proxy/pkgs/files/sig/1.0.0/sig.tgz')).headers['x-signature-type'], 'ed25519')
  })

  Local('quota: block refuses packages (403) and bytes (413) with X-Quota headers; warn publishes with a warning', async ({ hub }) => {
    const first = await put(hub, 'quota', alice, 'q1', '1.0.0', 'a.bin', Buffer.alloc(40, 1))
    assert.is(first.status, 201)
    assert.is(first.headers['x-quota-storage-used'], '40')
    assert.is(first.headers['x-quota-storage-limit'], '100')
    assert.is(first.headers['x-quota-packages-used'], '1')
    assert.is(first.headers['x-quota-packages-limit'], '2')
    assert.is((await put(hub, 'quota', alice, 'q2', '1.0.0', 'a.bin', Buffer.alloc(40, 2))).status, 201)
    const third = await put(hub, 'quota', alice, 'q3', '1.0.0', 'a.bin', Buffer.alloc(1, 3))
    assert.is(third.status, 403, third.text())
    assert.match(third.json().error, /package quota exceeded/)
    assert.is(third.headers['x-quota-packages-used'], '2')
    // A new version of an owned package needs no new package; 30 more bytes pass the 100-byte limit.
    const tooBig = await put(hub, 'quota', alice, 'q1', '1.1.0', 'a.bin', Buffer.alloc(30, 4))
    assert.is(tooBig.status, 413, tooBig.text())
    assert.match(tooBig.json().error, /publish quota exceeded/)
    assert.is(tooBig.headers['x-quota-storage-limit'], '100')
    assert.is((await put(hub, 'quota', alice, 'q1', '1.1.0', 'a.bin', Buffer.alloc(20, 5))).status, 201)
    const full = await put(hub, 'quota', alice, 'q1', '1.2.0', 'a.bin', Buffer.alloc(1, 6))
    assert.is(full.status, 413)
    assert.is(full.headers['x-quota-storage-used'], '100')
    // Quotas are per user.
    assert.is((await put(hub, 'quota', carol, 'q3', '1.0.0', 'a.bin', Buffer.alloc(50, 7))).status, 201)
    const fp = await footprint(hub)
    assert.is(fp.refs, 4, 'refused publishes stored nothing')
    assert.is(fp.blobFiles, 4)

    const warn = await put(hub, 'soft', alice, 'w1', '1.0.0', 'a.bin', Buffer.alloc(11, 1))
    assert.is(warn.status, 201)
    assert.match(warn.headers['x-quota-warning'] ?? '', /storage quota exceeded: 11 of 10 bytes/)
    const warn2 = await put(hub, 'soft', alice, 'w2', '1.0.0', 'a.bin', Buffer.alloc(1, 2))
    assert.is(warn2.status, 201)
    assert.match(warn2.headers['x-quota-warning'] ?? '', /package quota exceeded/)
    assert.is(warn2.headers['x-quota-packages-used'], '2')
    assert.is(warn2.headers['x-quota-packages-limit'], '1')
  })

  Local('a digest mismatch is 400 and stores nothing, also when an earlier file of the publish was stored', async ({ hub }) => {
    const before = await footprint(hub)
    const bad = await put(hub, 'pkgs', alice, 'dig', '1.0.0', 'd.tgz', 'content', { 'x-sha256': sha256('other') })
    assert.is(bad.status, 400, bad.text())
    assert.is(bad.json().code, 'BH_INTEGRITY')
    const multi = await hub.request('POST', '/proxy/pkgs/multi/dig/1.0.0', { token: alice, body: { files: [
      { filename: 'good.tgz', data: 'good bytes', sha256: sha256('good bytes') },
      { filename: 'bad.tgz', data: 'bad bytes', sha256: sha256('not these') },
    ] } })
    assert.is(multi.status, 400, multi.text())
    assert.equal(await footprint(hub), before, 'no keys, blobs, blob files or rows')
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/dig')).status, 404)
    const dupName = await hub.request('POST', '/proxy/pkgs/multi/dig/1.0.0', { token: alice, body: { files: [{ filename: 'a', data: '1' }, { filename: 'a', data: '2' }] } })
    assert.is(dupName.status, 400)
    const ok = await hub.request('POST', '/proxy/pkgs/multi/dig/1.0.0', { token: alice, body: { files: [{ filename: 'a.tgz', data: '1' }, { filename: 'b.whl', data: '2' }] } })
    assert.is(ok.status, 201)
    assert.is((await footprint(hub)).refs, 2)
  })

  Local('two concurrent publishes of one version: exactly one 201, one 409, no orphaned blob', async ({ hub }) => {
    // Both requests stream slowly so that both pass the checks before either commits.
    const send = async (payload: string) => {
      let release!: () => void
      const gate = new Promise<void>((r) => { release = r })
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode(payload.slice(0, 5)))
          await gate
          controller.enqueue(new TextEncoder().encode(payload.slice(5)))
          controller.close()
        },
      })
      const res = fetch(`${hub.url}/proxy/pkgs/files/race/1.0.0/race.tgz`, {
        method: 'PUT', body, duplex: 'half', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/octet-stream' },
      } as RequestInit)
      return { res, release }
    }
    const a = await send('first racer bytes')
    const b = await send('second racer bytes, different')
    await new Promise((r) => setTimeout(r, 300))
    a.release()
    b.release()
    const statuses = (await Promise.all([a.res, b.res])).map((r) => r.status).sort()
    assert.equal(statuses, [201, 409])
    const fp = await footprint(hub)
    assert.is(fp.refs, 1)
    assert.is(fp.blobs, 1)
    assert.is(fp.blobFiles, 1, 'the loser deleted the blob it stored')
    assert.is(fp.versions, 1)
    const info = (await hub.request('GET', '/proxy/pkgs/packages/race')).json()
    const file = await hub.request('GET', '/proxy/pkgs/files/race/1.0.0/race.tgz')
    assert.is(sha256(file.body), info.versions[0].files[0].sha256)
  })

  Local('two concurrent first publishes of a new package by different users: one owner, one 403', async ({ hub }) => {
    const [x, y] = await Promise.all([
      put(hub, 'pkgs', alice, 'contested', '1.0.0', 'c.tgz', 'alice'),
      put(hub, 'pkgs', carol, 'contested', '1.0.0', 'c.tgz', 'carol'),
    ])
    assert.equal([x.status, y.status].sort(), [201, 403])
    const owners = (await hub.request('GET', '/proxy/pkgs/owners/contested')).json()
    assert.is(owners.length, 1)
    assert.is(owners[0].principalId, x.status === 201 ? 'alice' : 'carol')
    assert.is((await footprint(hub)).blobFiles, 1)
  })

  Local('yank, unyank, deprecate, tags, delete: owners only, each with its event', async ({ hub, events }) => {
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) assert.is((await put(hub, 'pkgs', alice, 'tool', v, `tool-${v}.tgz`, `tool ${v}`)).status, 201)
    assert.is((await hub.request('POST', '/proxy/pkgs/yank/tool/2.0.0', { token: carol })).status, 403)
    assert.is((await hub.request('POST', '/proxy/pkgs/yank/tool/9.9.9', { token: alice })).status, 404)
    assert.is((await hub.request('POST', '/proxy/pkgs/yank/tool/2.0.0', { token: alice, body: 'broken build' })).status, 204)
    let info = (await hub.request('GET', '/proxy/pkgs/packages/tool')).json()
    assert.equal(info.versions.map((v: any) => [v.version, v.yanked, v.yankReason]), [['2.0.0', true, 'broken build'], ['1.1.0', false, undefined], ['1.0.0', false, undefined]])
    // Yanked stays downloadable by exact version; search's `latest` skips it.
    assert.is((await hub.request('GET', '/proxy/pkgs/files/tool/2.0.0/tool-2.0.0.tgz')).status, 200)
    assert.is((await hub.request('GET', '/proxy/pkgs/search?q=tool')).json().items[0].latest, '1.1.0')
    assert.is((await hub.request('POST', '/proxy/pkgs/unyank/tool/2.0.0', { token: alice })).status, 204)
    assert.is((await hub.request('POST', '/proxy/pkgs/deprecate/tool/1.0.0', { token: alice, body: 'use 2.x' })).status, 204)
    info = (await hub.request('GET', '/proxy/pkgs/packages/tool')).json()
    assert.is(info.versions[0].yanked, false)
    assert.is(info.versions[2].deprecated, 'use 2.x')
    assert.is((await hub.request('POST', '/proxy/pkgs/deprecate/tool/1.0.0', { token: alice, body: '' })).status, 204)
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/tool')).json().versions[2].deprecated, undefined)

    assert.is((await hub.request('PUT', '/proxy/pkgs/tags/tool/stable/1.1.0', { token: alice })).status, 204)
    assert.is((await hub.request('PUT', '/proxy/pkgs/tags/tool/next/3.0.0', { token: alice })).status, 404)
    assert.is((await hub.request('PUT', '/proxy/pkgs/tags/tool/stable/1.0.0', { token: carol })).status, 403)
    assert.equal((await hub.request('GET', '/proxy/pkgs/packages/tool')).json().tags, { stable: '1.1.0' })
    assert.is((await hub.request('GET', '/proxy/pkgs/search?q=tool')).json().items[0].latest, '2.0.0')
    assert.is((await hub.request('PUT', '/proxy/pkgs/tags/tool/latest/1.0.0', { token: alice })).status, 204)
    assert.is((await hub.request('GET', '/proxy/pkgs/search?q=tool')).json().items[0].latest, '1.0.0')
    assert.is((await hub.request('DELETE', '/proxy/pkgs/tags/tool/latest', { token: alice })).status, 204)
    assert.is((await hub.request('DELETE', '/proxy/pkgs/tags/tool/latest', { token: alice })).status, 404)

    // Deleting a version removes its files from storage and the tags pointing at it.
    const refs = (await footprint(hub)).refs
    assert.is((await hub.request('DELETE', '/proxy/pkgs/packages/tool/1.1.0', { token: carol })).status, 403)
    assert.is((await hub.request('DELETE', '/proxy/pkgs/packages/tool/1.1.0', { token: alice })).status, 204)
    assert.is((await footprint(hub)).refs, refs - 1)
    info = (await hub.request('GET', '/proxy/pkgs/packages/tool')).json()
    assert.equal(info.versions.map((v: any) => v.version), ['2.0.0', '1.0.0'])
    assert.equal(info.tags, {})
    assert.is((await hub.request('GET', '/proxy/pkgs/files/tool/1.1.0/tool-1.1.0.tgz')).status, 404)
    // Deleting the package removes everything, owners included.
    assert.is((await hub.request('DELETE', '/proxy/pkgs/packages/tool', { token: root })).status, 204)
    assert.is((await hub.request('GET', '/proxy/pkgs/packages/tool')).status, 404)
    assert.equal(await footprint(hub), { refs: 0, blobs: 0, blobFiles: 0, versions: 0, files: 0, packages: 0 })
    assert.equal((await hub.request('GET', '/proxy/pkgs/owners/tool')).json(), [])

    assert.equal(events.map((e) => [e.event, e.payload.version ?? null, e.payload.actor.userId]), [
      ['core:package.published', '1.0.0', 'alice'],
      ['core:package.published', '1.1.0', 'alice'],
      ['core:package.published', '2.0.0', 'alice'],
      ['core:package.yanked', '2.0.0', 'alice'],
      ['core:package.unyanked', '2.0.0', 'alice'],
      ['core:package.deprecated', '1.0.0', 'alice'],
      ['core:package.deprecated', '1.0.0', 'alice'],
      ['core:package.deleted', '1.1.0', 'alice'],
      ['core:package.deleted', null, 'root'],
    ])
    assert.is(events[5]!.payload.message, 'use 2.x')
    assert.is(events[8]!.payload.registry, 'pkgs')
  })

  Local('file names with traversal are refused; hostile names and versions map to safe storage keys', async ({ hub }) => {
    for (const filename of ['../../etc/passwd', 'a/b.tgz', 'a\\b.tgz', 'a\u0000b', '..', '.', 'x..y', '']) {
      // In a URL (fetch would resolve a bare `..` segment itself) and in a JSON body.
      if (filename !== '..' && filename !== '.' && filename !== '') {
        const res = await put(hub, 'pkgs', alice, 'safe', '1.0.0', filename, 'x')
        assert.is(res.status, 400, `${JSON.stringify(filename)}: ${res.text()}`)
      }
      const multi = await hub.request('POST', '/proxy/pkgs/multi/safe/1.0.0', { token: alice, body: { files: [{ filename: 'ok.tgz', data: 'ok' }, { filename, data: 'x' }] } })
      assert.is(multi.status, 400, `${JSON.stringify(filename)}: ${multi.text()}`)
    }
    for (const version of ['1.0/../../x', '1 0', '1\\0']) {
      assert.is((await put(hub, 'pkgs', alice, 'safe', version, 'f.tgz', 'x')).status, 400, version)
    }
    assert.equal(await footprint(hub), { refs: 0, blobs: 0, blobFiles: 0, versions: 0, files: 0, packages: 0 })
    const hostile = '../../../@evil/..%2F~name'
    assert.is((await put(hub, 'pkgs', alice, hostile, '1.0.0+build.~1', '.hidden~file', 'x')).status, 201)
    const keys = await hub.kernel.db.execute(`select "key" from ${qualified(hub.kernel.db, 'storage_refs')}`)
    assert.is(keys.length, 1)
    const key = String(keys[0]!.key)
    assert.ok(key.startsWith('local/pkgs/'), key)
    assert.is(key.split('/').length, 6, key)
    assert.not.ok(key.split('/').some((s) => s === '..' || s === '.' || s.startsWith('.')), key)
    const file = await hub.request('GET', `/proxy/pkgs/files/${encodeURIComponent(hostile)}/${encodeURIComponent('1.0.0+build.~1')}/.hidden~file`)
    assert.is(file.text(), 'x')
  })

  Local('modes: a proxy registry refuses publishing; a hybrid one hosts packages', async ({ hub }) => {
    const proxied = await put(hub, 'mirror', root, 'm', '1.0.0', 'm.tgz', 'x')
    assert.is(proxied.status, 403)
    assert.match(proxied.json().error, /not in local or hybrid mode/)
    assert.is((await put(hub, 'hyb', alice, 'h', '1.0.0', 'h.tgz', 'x')).status, 201)
    assert.equal((await hub.request('GET', '/proxy/hyb/exists/H')).json(), { exists: true })
    // Registries are separate namespaces.
    assert.equal((await hub.request('GET', '/proxy/pkgs/exists/h')).json(), { exists: false })
    assert.is((await put(hub, 'pkgs', carol, 'h', '1.0.0', 'h.tgz', 'y')).status, 201)
  })

  Local('search pages through visible packages, most recently updated first', async ({ hub }) => {
    for (const [i, name] of ['alpha-one', 'alpha-two', 'beta-one', 'alpha-three'].entries()) {
      hub.clock.advance(1000)
      assert.is((await put(hub, 'pkgs', alice, name, `1.0.${i}`, 'f.tgz', name)).status, 201)
    }
    await hub.request('PUT', '/api/v1/admin/registries/pkgs/packages/alpha-two/visibility', { token: root, body: { visibility: 'internal' } })
    const anon = (await hub.request('GET', '/proxy/pkgs/search?q=ALPHA')).json()
    assert.equal(anon.items.map((i: any) => i.name), ['alpha-three', 'alpha-one'])
    const signedIn = (await hub.request('GET', '/proxy/pkgs/search?q=alpha&limit=2&offset=1', { token: carol })).json()
    assert.is(signedIn.total, 3)
    assert.equal(signedIn.items.map((i: any) => i.name), ['alpha-two', 'alpha-one'])
    assert.is((await hub.request('GET', '/proxy/pkgs/search', { token: carol })).json().total, 4)
    assert.is((await hub.request('GET', '/proxy/pkgs/search?q=%25')).json().total, 0, 'LIKE wildcards match literally')
  })

  Local.run()
}
