/**
 * End to end with the real clients: pip installs through the hub (proxy: cold, then warm with the
 * upstream stopped), twine publishes to it (local), and hybrid serves both. Bad input shows up as
 * twine's own error output, and nothing is stored.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { testDialects } from '@batlehub/kernel/testing'
import { startHub, get, type Hub } from './support/harness.ts'
import { buildSdist, buildWheel, type BuiltDist } from './support/dists.ts'
import { importVersion, pipInstall, pipVersion, scratch, twineUpload } from './support/clients.ts'

interface Ctx {
  hub: Hub
  tmp: ReturnType<typeof scratch>
}

function write(dir: string, ...dists: BuiltDist[]): string[] {
  return dists.map((d) => {
    const path = join(dir, d.filename)
    writeFileSync(path, d.body)
    return path
  })
}

const dialects = testDialects()

for (const database of dialects) {
  const Proxy = suite<Ctx>(`pip through a pypi proxy (${database})`)
  Proxy.before.each(async (t) => {
    t.tmp = scratch()
    t.hub = await startHub({ mode: 'proxy', database })
  })
  Proxy.after.each(async (t) => {
    await t.hub.close()
    t.tmp.cleanup()
  })

  Proxy('pip installs a package and its dependency cold, then warm with the upstream stopped', async ({ hub, tmp }) => {
    const cold = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'cold'), packages: ['demo-lib'] })
    assert.is(cold.code, 0, cold.stderr + cold.stdout)
    // The newest final release (not 2.0.0rc1), and the newest dependency.
    assert.equal(cold.installed, ['demo_lib-1.1.0.dist-info', 'tiny_dep-1.2.0.dist-info'])
    assert.is(await importVersion(join(tmp.dir, 'cold'), 'demo_lib', tmp.dir), '1.1.0')
    const files = hub.fixture!.files.paths
    assert.ok(files.some((p) => p.endsWith('demo_lib-1.1.0-py3-none-any.whl')), files.join('\n'))
    // pip >= 23.2 reads PEP 714 `core-metadata` from the JSON page: the metadata file, not a whole
    // wheel, is what resolution downloads (older pips ignore the key and fetch the wheels).
    const [major, minor] = await pipVersion()
    if (major > 23 || (major === 23 && minor >= 2)) assert.ok(files.some((p) => p.endsWith('.whl.metadata')), files.join('\n'))

    await hub.fixture!.close()
    const warm = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'warm'), packages: ['demo-lib'] })
    assert.is(warm.code, 0, warm.stderr + warm.stdout)
    assert.equal(warm.installed, ['demo_lib-1.1.0.dist-info', 'tiny_dep-1.2.0.dist-info'])
  })

  Proxy('pip sees pre-releases only when asked, and yanked releases only when pinned', async ({ hub, tmp }) => {
    const pre = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'pre'), packages: ['demo-lib'], extra: ['--pre', '--no-deps'] })
    assert.is(pre.code, 0, pre.stderr)
    assert.equal(pre.installed, ['demo_lib-2.0.0rc1.dist-info'])
    const yanked = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'y'), packages: ['demo-lib==0.9.0'], extra: ['--no-deps'] })
    assert.is(yanked.code, 0, yanked.stderr)
    assert.match(yanked.stderr, /yanked/i)
    assert.match(yanked.stderr, /broken build/)
    const missing = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'm'), packages: ['no-such-project'] })
    assert.is.not(missing.code, 0)
    assert.match(missing.stderr, /No matching distribution found for no-such-project/)
  })

  Proxy.run()

  const Local = suite<Ctx>(`twine and pip with a local pypi (${database})`)
  Local.before.each(async (t) => {
    t.tmp = scratch()
    t.hub = await startHub({ mode: 'local', database, noUpstream: true, registry: { max_artifact_bytes: 128 * 1024 } })
  })
  Local.after.each(async (t) => {
    await t.hub.close()
    t.tmp.cleanup()
  })

  Local('twine uploads a wheel and an sdist; pip installs the published package', async ({ hub, tmp }) => {
    const dep = { name: 'house-dep', version: '0.3.0' }
    const spec = { name: 'house-lib', version: '2.1.0', requiresDist: ['house-dep>=0.2'], requiresPython: '>=3.7' }
    const paths = write(tmp.dir, buildWheel(spec), await buildSdist(spec), buildWheel(dep))
    const up = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: paths })
    assert.is(up.code, 0, up.stdout + up.stderr)
    const target = join(tmp.dir, 'site')
    const pip = await pipInstall({ base: hub.base, token: hub.kernel.userToken, home: tmp.dir, target, packages: ['house-lib'] })
    assert.is(pip.code, 0, pip.stderr + pip.stdout)
    assert.equal(pip.installed, ['house_dep-0.3.0.dist-info', 'house_lib-2.1.0.dist-info'])
    assert.is(await importVersion(target, 'house_lib', tmp.dir), '2.1.0')
    // Without credentials a local registry is closed (default RBAC): the index answers 401 and pip
    // finds nothing.
    assert.is((await get(hub, '/simple/house-lib/')).status, 401)
    const anon = await pipInstall({ base: hub.base, home: tmp.dir, target: join(tmp.dir, 'anon'), packages: ['house-lib'] })
    assert.is.not(anon.code, 0)
    assert.match(anon.output, /No matching distribution found for house-lib/)
  })

  Local('twine shows the hub\'s reasons: existing files, disagreeing names, hostile archives, bad tokens', async ({ hub, tmp }) => {
    const wheel = buildWheel({ name: 'twine-lib', version: '1.0.0' })
    const [path] = write(tmp.dir, wheel)
    assert.is((await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [path!] })).code, 0)
    const again = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [path!] })
    assert.is.not(again.code, 0)
    assert.match(again.output, /HTTPError: 400 Bad Request from \S+\/legacy\/ File already exists \("twine_lib-1\.0\.0-py3-none-any\.whl"/)
    const skip = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [path!], extra: ['--skip-existing'] })
    assert.is(skip.code, 0, skip.stdout + skip.stderr)
    assert.match(skip.output, /Skipping twine_lib-1\.0\.0-py3-none-any\.whl because it appears to already exist/)

    // The wheel's METADATA (which twine sends as the form) names another project than the file name.
    const [mismatch] = write(tmp.dir, { ...buildWheel({ name: 'named-lib', version: '1.0.0', metadataName: 'other-lib' }) })
    const r1 = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [mismatch!] })
    assert.is.not(r1.code, 0)
    assert.match(r1.output, /Start filename for "other-lib" with "other_lib"/)

    const [evil] = write(tmp.dir, buildWheel({ name: 'evil-lib', version: '1.0.0', extraZip: [{ name: '../../../tmp/evil.py', data: 'print(1)' }] }))
    const r2 = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [evil!] })
    assert.is.not(r2.code, 0)
    assert.match(r2.output, /Invalid distribution file: archive entry .*escapes the archive.*\.\.\/tmp\/evil\.py/, r2.output)

    const r3 = await twineUpload({ base: hub.base, token: 'not-a-token', home: tmp.dir, files: [path!] })
    assert.is.not(r3.code, 0)
    assert.match(r3.output, /401|403/)

    const noise = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 7919 + (i >> 8)) % 251))
    const [big] = write(tmp.dir, buildWheel({ name: 'big-lib', version: '1.0.0', extraZip: [{ name: 'big_lib/blob.bin', data: noise, store: true }] }))
    const r4 = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: [big!] })
    assert.is.not(r4.code, 0)
    assert.match(r4.output, /413 Request Entity Too Large|413 Payload Too Large|413 Content Too Large/, r4.output)

    for (const project of ['named-lib', 'other-lib', 'evil-lib', 'big-lib']) {
      assert.is((await get(hub, `/simple/${project}/`, { token: hub.kernel.adminToken })).status, 404, project)
    }
  })

  Local.run()

  const Hybrid = suite<Ctx>(`pip and twine with a hybrid pypi (${database})`)
  Hybrid.before.each(async (t) => {
    t.tmp = scratch()
    t.hub = await startHub({ mode: 'hybrid', database })
  })
  Hybrid.after.each(async (t) => {
    await t.hub.close()
    t.tmp.cleanup()
  })

  Hybrid('serves local packages first and the upstream for the rest; a local name hides the upstream one', async ({ hub, tmp }) => {
    // A private package depending on a public one, and a local demo-lib shadowing the upstream's.
    const paths = write(tmp.dir,
      buildWheel({ name: 'private-lib', version: '0.1.0', requiresDist: ['tiny-dep>=1.1'] }),
      buildWheel({ name: 'demo-lib', version: '0.0.1', code: '__version__ = "local"\n' }))
    const up = await twineUpload({ base: hub.base, token: hub.kernel.adminToken, home: tmp.dir, files: paths })
    assert.is(up.code, 0, up.stdout + up.stderr)
    const target = join(tmp.dir, 'site')
    const pip = await pipInstall({ base: hub.base, token: hub.kernel.userToken, home: tmp.dir, target, packages: ['private-lib', 'demo-lib'] })
    assert.is(pip.code, 0, pip.stderr + pip.stdout)
    assert.equal(pip.installed, ['demo_lib-0.0.1.dist-info', 'private_lib-0.1.0.dist-info', 'tiny_dep-1.2.0.dist-info'])
    assert.is(await importVersion(target, 'demo_lib', tmp.dir), 'local')
    // The upstream's demo-lib was never even asked for.
    assert.not.ok(hub.fixture!.index.paths.some((p) => p.includes('demo-lib')), hub.fixture!.index.paths.join('\n'))
    const root = await (await get(hub, '/simple/', { token: hub.kernel.userToken })).text()
    assert.match(root, /href="private-lib\/"/)
    assert.match(root, /href="tiny-dep\/"/)
    assert.is(root.match(/href="demo-lib\/"/g)!.length, 1)
  })

  Hybrid.run()
}
