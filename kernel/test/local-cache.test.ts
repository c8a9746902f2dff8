import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import type { Identity } from '@batlehub/sdk'
import { testDialects, type KernelTestHandle } from '../src/testing/index.ts'
import { qualified } from '../src/db/sql.ts'
import type { LocalStore } from '../src/local/index.ts'
import { localHub, put, TOKENS } from './local-helpers.ts'

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
const { root, alice } = TOKENS

const user = (userId: string, groups: string[] = []): Identity => ({ subject: `token:${userId}`, userId, role: 'user', groups, provider: 'token' })
const ADMIN: Identity = { subject: 'token:root', userId: 'root', role: 'admin', groups: [], provider: 'token' }
const ANON: Identity = { subject: 'anonymous', userId: 'anonymous', role: 'anonymous', groups: [], provider: 'anonymous' }

for (const dialect of testDialects()) {
  const Cache = suite<{ hub: KernelTestHandle; store: LocalStore }>(`local package cache (${dialect})`)

  Cache.before.each(async (t) => {
    t.hub = await localHub(dialect)
    t.store = t.hub.kernel.localStores.get('pkgs')!
    for (const version of ['1.0.0', '1.1.0']) {
      const res = await put(t.hub, 'pkgs', alice, 'Left_Pad', version, `left-pad-${version}.tgz`, `pad ${version}`)
      assert.is(res.status, 201, res.text())
    }
  })
  Cache.after.each(async (t) => {
    await t.hub.close()
  })

  const cached = (hub: KernelTestHandle) => hub.kernel.localStores.packageCache.get('pkgs', 'left-pad')

  Cache('getVersion returns one version by any spelling of the name, null for what does not exist', async ({ store }) => {
    const v = await store.getVersion('left.PAD', '1.0.0')
    assert.ok(v)
    assert.is(v!.version, '1.0.0')
    assert.is(v!.yanked, false)
    assert.is(v!.files.length, 1)
    assert.is(v!.files[0]!.filename, 'left-pad-1.0.0.tgz')
    assert.is(v!.files[0]!.sha256, sha256('pad 1.0.0'))
    assert.equal(v!.metadata, { via: 'put' })
    assert.is((await store.getVersion('left-pad', '1.1.0'))!.files[0]!.sha256, sha256('pad 1.1.0'))
    assert.is(await store.getVersion('left-pad', '9.9.9'), null)
    assert.is(await store.getVersion('left-pad', '1.0'), null, 'versions compare exactly')
    assert.is(await store.getVersion('right-pad', '1.0.0'), null)
    assert.is(await store.getVersion('../etc', '1.0.0'), null, 'a name that cannot exist is absent')
    assert.is(await store.getVersion('left-pad', undefined as unknown as string), null)
    // The same version as getPackage reports.
    const pkg = await store.getPackage('left-pad')
    assert.equal(await store.getVersion('left-pad', '1.1.0'), pkg!.versions.find((x) => x.version === '1.1.0'))
  })

  Cache('reads after the first come from the cache; callers get copies; the TTL bounds staleness', async ({ hub, store }) => {
    assert.is(cached(hub), undefined)
    await store.getVersion('left-pad', '1.0.0')
    assert.ok(cached(hub), 'the package is cached after a read')
    // Another replica deletes the version behind this process's back: the cache still answers...
    const db = hub.kernel.db
    await db.execute(`update ${qualified(db, 'local_versions')} set deprecated = ? where version = ?`, ['from elsewhere', '1.0.0'])
    assert.is((await store.getVersion('left-pad', '1.0.0'))!.deprecated, undefined)
    // ...and a caller mutating its copy changes nothing for the next one.
    const copy = await store.getPackage('left-pad') as unknown as { versions: Array<{ version: string }> }
    copy.versions.length = 0
    assert.is((await store.getPackage('left-pad'))!.versions.length, 2)
    // Once the TTL has passed the change shows.
    hub.clock.advance(30_001)
    assert.is((await store.getVersion('left-pad', '1.0.0'))!.deprecated, 'from elsewhere')
  })

  Cache('visibility is decided per call, never cached', async ({ hub, store }) => {
    await store.setVisibility('left-pad', 'team')
    // Warm the cache as the admin, then ask as others: the cached package must not leak.
    assert.ok(await store.getVersion('left-pad', '1.0.0', { identity: ADMIN }))
    assert.ok(cached(hub))
    assert.is(await store.getVersion('left-pad', '1.0.0', { identity: ANON }), null)
    assert.is(await store.getVersion('left-pad', '1.0.0', { identity: user('bob', ['oidc:frontend-team']) }), null)
    assert.is(await store.getPackage('left-pad', { identity: user('bob') }), null)
    assert.ok(await store.getVersion('left-pad', '1.0.0', { identity: user('alice') }), 'the owner sees it')
    // An owner added later sees it at once, though the package itself did not change.
    const added = await hub.request('PUT', '/proxy/pkgs/owners/left-pad/user/bob/maintainer', { token: alice })
    assert.ok(added.status < 300, added.text())
    assert.ok(await store.getVersion('left-pad', '1.0.0', { identity: user('bob') }))
    await store.setVisibility('left-pad', 'internal')
    assert.ok(await store.getVersion('left-pad', '1.0.0', { identity: user('carol') }))
    assert.is(await store.getVersion('left-pad', '1.0.0', { identity: ANON }), null)
  })

  Cache('every mutation of a package forgets its cached copy', async ({ hub, store }) => {
    const warm = async () => {
      await store.getPackage('left-pad')
      assert.ok(cached(hub), 'warmed')
    }
    const ok = async (what: string, res: Promise<{ status: number; text(): string }>) => {
      const r = await res
      assert.ok(r.status < 300, `${what}: ${r.status} ${r.text()}`)
      assert.is(cached(hub), undefined, `${what} forgets the cached package`)
    }
    const req = (method: string, path: string, body?: string) => hub.request(method, `/proxy/pkgs${path}`, { token: alice, ...(body !== undefined ? { body } : {}) })

    await warm()
    await ok('publish', put(hub, 'pkgs', alice, 'left-pad', '1.2.0', 'left-pad-1.2.0.tgz', 'pad 1.2.0'))
    assert.ok(await store.getVersion('left-pad', '1.2.0'))

    await warm()
    await ok('yank', req('POST', '/yank/left-pad/1.0.0', 'broken'))
    assert.equal([(await store.getVersion('left-pad', '1.0.0'))!.yanked, (await store.getVersion('left-pad', '1.0.0'))!.yankReason], [true, 'broken'])

    await warm()
    await ok('unyank', req('POST', '/unyank/left-pad/1.0.0'))
    assert.is((await store.getVersion('left-pad', '1.0.0'))!.yanked, false)

    await warm()
    await ok('deprecate', req('POST', '/deprecate/left-pad/1.1.0', 'use 1.2'))
    assert.is((await store.getVersion('left-pad', '1.1.0'))!.deprecated, 'use 1.2')

    await warm()
    await ok('set a tag', req('PUT', '/tags/left-pad/stable/1.1.0'))
    assert.is((await store.getPackage('left-pad'))!.tags.stable, '1.1.0')

    await warm()
    await ok('remove a tag', req('DELETE', '/tags/left-pad/stable'))
    assert.is((await store.getPackage('left-pad'))!.tags.stable, undefined)

    await warm()
    await ok('add an owner', req('PUT', '/owners/left-pad/user/bob/admin'))
    await warm()
    await ok('remove an owner', req('DELETE', '/owners/left-pad/user/bob'))

    await warm()
    await store.setVisibility('left-pad', 'internal')
    assert.is(cached(hub), undefined, 'setting the visibility forgets the cached package')
    assert.is((await store.getPackage('left-pad'))!.visibility, 'internal')

    await warm()
    await ok('delete a version', req('DELETE', '/packages/left-pad/1.0.0'))
    assert.is(await store.getVersion('left-pad', '1.0.0'), null)

    await warm()
    await ok('delete the package', hub.request('DELETE', '/proxy/pkgs/packages/left-pad', { token: root }))
    assert.is(await store.getVersion('left-pad', '1.1.0'), null)
    assert.is(await store.getPackage('left-pad'), null)
  })

  Cache.run()
}
