import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { testDialects } from '@batlehub/kernel/testing'
import { show } from './cargo.ts'
import { crateBytes, manifestOf, sha256, tar } from './fixtures.ts'
import { publishFrame, publishMetadata, startHub, type Hub } from './harness.ts'

const ALICE = 'alice-token-0123456789abcdef'
const BOB = 'bob-token-0123456789abcdef'
const ADMIN = 'admin-token-0123456789abcdef'
const READER = 'reader-token-0123456789abcdef'

const auth = [{
  type: 'token',
  tokens: [
    { value: ADMIN, role: 'admin', user_id: 'root' },
    { value: ALICE, role: 'user', user_id: 'alice', groups: ['publishers'] },
    { value: BOB, role: 'user', user_id: 'bob', groups: ['publishers'] },
    { value: READER, role: 'user', user_id: 'reader' },
  ],
}]

/** Users read, the `publishers` group also publishes; anonymous callers get nothing (auth-required). */
const rbac = { user: ['releases:read', 'source:read'], publishers: ['releases:write'], admin: ['*'] }

const raw = (hub: Hub, method: string, path: string, token: string | undefined, body?: Buffer | string | Record<string, unknown>, headers: Record<string, string> = {}) =>
  hub.kernel.request(method, `/proxy/internal${path}`, { headers: { ...headers, ...(token ? { authorization: token } : {}) }, ...(body !== undefined ? { body } : {}) })

for (const database of testDialects()) {
  const Local = suite<{ hub: Hub }>(`cargo local registry (${database})`)

  Local.before.each(async (t) => {
    t.hub = await startHub({ database, config: { auth }, registries: [{ name: 'internal', type: 'cargo', mode: 'local', rbac, max_crate_bytes: 64 * 1024 }] })
    t.hub.cargo.config(`[registries.internal]\nindex = "${t.hub.index('internal')}"\ncredential-provider = "cargo:token"\n`)
  })
  Local.after.each(async (t) => {
    await t.hub.close()
  })

  const asAlice = { env: { CARGO_REGISTRIES_INTERNAL_TOKEN: ALICE } }

  Local('cargo publish, then a project depending on the crate builds from a clean CARGO_HOME', async ({ hub }) => {
    const { cargo } = hub
    const lib = cargo.project('my-lib', { lib: 'pub fn answer() -> u32 { 42 }\n', publish: ['internal'] })
    const pub = await cargo.run(['publish', '--registry', 'internal', '--allow-dirty', '--no-verify'], { cwd: lib, ...asAlice })
    assert.is(pub.code, 0, show(pub))
    assert.match(pub.stderr, /Published my-lib v0\.1\.0/)

    // The index line is what cargo expects, with the sha256 of the stored .crate.
    const index = await raw(hub, 'GET', '/registry/my/-l/my-lib', ALICE)
    assert.is(index.status, 200, index.text())
    const line = JSON.parse(index.text().trim())
    assert.is(line.name, 'my-lib')
    assert.is(line.vers, '0.1.0')
    assert.is(line.yanked, false)
    assert.equal(line.deps, [])
    assert.match(line.pubtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const download = await raw(hub, 'GET', '/registry/dl/my-lib/0.1.0/download', ALICE)
    assert.is(download.status, 200)
    assert.is(sha256(download.body), line.cksum)

    const lib2 = cargo.project('my-lib', { version: '0.2.0', lib: 'pub fn answer() -> u32 { 43 }\n', publish: ['internal'] })
    const pub2 = await cargo.run(['publish', '--registry', 'internal', '--allow-dirty', '--no-verify'], { cwd: lib2, ...asAlice })
    assert.is(pub2.code, 0, show(pub2))

    cargo.freshHome()
    cargo.config(`[registries.internal]\nindex = "${hub.index('internal')}"\ncredential-provider = "cargo:token"\n`)
    const app = cargo.project('app', {
      deps: [{ name: 'my-lib', req: '0.1', registry: 'internal' }],
      main: 'fn main() { println!("{}", my_lib::answer()); }\n',
    })
    const run = await cargo.run(['run', '-q'], { cwd: app, env: { CARGO_REGISTRIES_INTERNAL_TOKEN: READER } })
    assert.is(run.code, 0, show(run))
    assert.is(run.stdout.trim(), '42')
  })

  Local('a crate depending on another private crate: the index line carries the dependency', async ({ hub }) => {
    const { cargo } = hub
    const base = cargo.project('base-lib', { lib: 'pub fn base() -> &\'static str { "base" }\n' })
    assert.is((await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: base, ...asAlice })).code, 0)
    const top = cargo.project('top-lib', {
      deps: [{ name: 'base-lib', req: '0.1', registry: 'internal' }],
      lib: 'pub fn top() -> String { format!("top+{}", base_lib::base()) }\n',
    })
    const pub = await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: top, ...asAlice })
    assert.is(pub.code, 0, show(pub))
    const line = JSON.parse((await raw(hub, 'GET', '/registry/to/p-/top-lib', ALICE)).text().trim())
    assert.equal(line.deps, [{ name: 'base-lib', req: '^0.1', features: [], optional: false, default_features: true, target: null, kind: 'normal', registry: null, package: null }])
    const app = cargo.project('app2', { deps: [{ name: 'top-lib', req: '0.1', registry: 'internal' }], main: 'fn main() { println!("{}", top_lib::top()); }\n' })
    const run = await cargo.run(['run', '-q'], { cwd: app, ...asAlice })
    assert.is(run.code, 0, show(run))
    assert.is(run.stdout.trim(), 'top+base')
  })

  Local('cargo yank / --undo flips the index flag; a yanked version is not picked', async ({ hub }) => {
    const { cargo } = hub
    for (const version of ['0.1.0', '0.1.1']) {
      const dir = cargo.project('yanky', { version })
      assert.is((await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: dir, ...asAlice })).code, 0)
    }
    const before = await raw(hub, 'GET', '/registry/ya/nk/yanky', ALICE)
    assert.is((await raw(hub, 'GET', '/registry/ya/nk/yanky', ALICE, undefined, { 'if-none-match': before.headers.etag! })).status, 304)
    const yank = await cargo.run(['yank', '--registry', 'internal', 'yanky@0.1.1'], asAlice)
    assert.is(yank.code, 0, show(yank))
    const lines = (await raw(hub, 'GET', '/registry/ya/nk/yanky', ALICE)).text().trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines.map((l) => [l.vers, l.yanked]), [['0.1.0', false], ['0.1.1', true]])
    // The file changed, so cargo's revalidation gets the new one rather than a 304.
    assert.is((await raw(hub, 'GET', '/registry/ya/nk/yanky', ALICE, undefined, { 'if-none-match': before.headers.etag! })).status, 200)
    const app = cargo.project('app3', { deps: [{ name: 'yanky', req: '0.1', registry: 'internal' }] })
    const lock = await cargo.run(['generate-lockfile'], { cwd: app, ...asAlice })
    assert.is(lock.code, 0, show(lock))
    assert.match(readFileSync(join(app, 'Cargo.lock'), 'utf8'), /name = "yanky"\nversion = "0\.1\.0"/)
    // Bob is no owner: his yank is refused with the reason.
    const bob = await cargo.run(['yank', '--registry', 'internal', 'yanky@0.1.0'], { env: { CARGO_REGISTRIES_INTERNAL_TOKEN: BOB } })
    assert.is.not(bob.code, 0)
    assert.match(bob.stderr, /403/)
    const undo = await cargo.run(['yank', '--undo', '--registry', 'internal', 'yanky@0.1.1'], asAlice)
    assert.is(undo.code, 0, show(undo))
    const after = (await raw(hub, 'GET', '/registry/ya/nk/yanky', ALICE)).text().trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(after.map((l) => l.yanked), [false, false])
  })

  Local('cargo owner --list / --add / --remove, and only owners publish new versions', async ({ hub }) => {
    const { cargo } = hub
    const dir = cargo.project('owned')
    assert.is((await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: dir, ...asAlice })).code, 0)
    const list = await cargo.run(['owner', '--registry', 'internal', '--list', 'owned'], asAlice)
    assert.is(list.code, 0, show(list))
    assert.match(list.stdout, /alice/)
    const bobPublish = await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: cargo.project('owned', { version: '0.2.0' }), env: { CARGO_REGISTRIES_INTERNAL_TOKEN: BOB } })
    assert.is.not(bobPublish.code, 0)
    assert.match(bobPublish.stderr, /403/)
    const add = await cargo.run(['owner', '--registry', 'internal', '--add', 'bob', 'owned'], asAlice)
    assert.is(add.code, 0, show(add))
    assert.match((await cargo.run(['owner', '--registry', 'internal', '--list', 'owned'], asAlice)).stdout, /bob/)
    const bobAgain = await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: cargo.project('owned', { version: '0.2.0' }), env: { CARGO_REGISTRIES_INTERNAL_TOKEN: BOB } })
    assert.is(bobAgain.code, 0, show(bobAgain))
    const remove = await cargo.run(['owner', '--registry', 'internal', '--remove', 'bob', 'owned'], asAlice)
    assert.is(remove.code, 0, show(remove))
    assert.not.match((await cargo.run(['owner', '--registry', 'internal', '--list', 'owned'], asAlice)).stdout, /bob/)
  })

  Local('cargo search lists local crates with their highest version', async ({ hub }) => {
    const { cargo } = hub
    for (const [name, version] of [['search-me', '0.1.0'], ['search-me', '0.3.0'], ['other-crate', '1.0.0']] as const) {
      const dir = cargo.project(name, { version, description: `the ${name} crate` })
      assert.is((await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: dir, ...asAlice })).code, 0)
    }
    const r = await cargo.run(['search', '--registry', 'internal', 'search'], asAlice)
    assert.is(r.code, 0, show(r))
    assert.match(r.stdout, /search-me = "0\.3\.0"\s+# the search-me crate/)
    assert.not.match(r.stdout, /other-crate/)
  })

  Local('auth-required: anonymous gets 401 everywhere; cargo without a token fails, with one it works', async ({ hub }) => {
    const config = await raw(hub, 'GET', '/registry/config.json', undefined)
    assert.is(config.status, 401)
    assert.ok(config.json().errors[0].detail)
    const authed = await raw(hub, 'GET', '/registry/config.json', READER)
    assert.is(authed.status, 200)
    assert.is(authed.json()['auth-required'], true)
    const { cargo } = hub
    assert.is((await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: cargo.project('secret'), ...asAlice })).code, 0)
    assert.is((await raw(hub, 'GET', '/registry/se/cr/secret', undefined)).status, 401)
    assert.is((await raw(hub, 'GET', '/registry/dl/secret/0.1.0/download', undefined)).status, 401)
    const app = cargo.project('app4', { deps: [{ name: 'secret', req: '0.1', registry: 'internal' }] })
    const anonymous = await cargo.run(['generate-lockfile'], { cwd: app })
    assert.is.not(anonymous.code, 0, show(anonymous))
    assert.match(anonymous.stderr, /token|401|authenticat/i)
    const withToken = await cargo.run(['fetch'], { cwd: app, env: { CARGO_REGISTRIES_INTERNAL_TOKEN: READER } })
    assert.is(withToken.code, 0, show(withToken))
    // A user outside the publishers group may not publish.
    const denied = await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: cargo.project('nope'), env: { CARGO_REGISTRIES_INTERNAL_TOKEN: READER } })
    assert.is.not(denied.code, 0)
    assert.match(denied.stderr, /403/)
  })

  Local('an oversized publish is refused in cargo\'s error format and nothing is stored', async ({ hub }) => {
    const { cargo } = hub
    const noise = Array.from({ length: 4000 }, (_, i) => `pub const N${i}: &str = "${sha256(String(i))}";`).join('\n')
    const big = cargo.project('big-crate', { lib: `${noise}\n` })
    const r = await cargo.run(['publish', '--registry', 'internal', '--no-verify', '--allow-dirty'], { cwd: big, ...asAlice })
    assert.is.not(r.code, 0)
    assert.match(r.stderr, /413|max upload size/i)
    assert.is((await raw(hub, 'GET', '/registry/bi/g-/big-crate', ALICE)).status, 404)
  })

  Local('hostile publishes get cargo errors with the reason, and nothing is stored', async ({ hub }) => {
    const good = (name: string, version: string) => crateBytes({ name, version })
    const cases: Array<[string, Buffer, number, RegExp]> = [
      ['malformed crate name', publishFrame(publishMetadata('../evil', '0.1.0'), good('evil', '0.1.0')), 400, /invalid crate name/],
      ['name with a dot', publishFrame(publishMetadata('evil.name', '0.1.0'), good('evil', '0.1.0')), 400, /invalid crate name/],
      ['reserved name', publishFrame(publishMetadata('nul', '0.1.0'), good('nul', '0.1.0')), 400, /reserved/],
      ['non-SemVer version', publishFrame(publishMetadata('evil', '1.0'), good('evil', '1.0')), 400, /SemVer/],
      ['path traversal in the .crate', publishFrame(publishMetadata('evil', '0.1.0'), gzipSync(tar([
        { path: 'evil-0.1.0/Cargo.toml', data: manifestOf({ name: 'evil', version: '0.1.0' }) },
        { path: 'evil-0.1.0/../../../home/x/.bashrc', data: 'echo pwned' },
      ]))), 400, /invalid \.crate: .*escapes the archive/],
      ['symlink in the .crate', publishFrame(publishMetadata('evil', '0.1.0'), gzipSync(tar([
        { path: 'evil-0.1.0/Cargo.toml', data: manifestOf({ name: 'evil', version: '0.1.0' }) },
        { path: 'evil-0.1.0/src', type: '2', linkPath: '/etc' },
      ]))), 400, /symlink/],
      ['Cargo.toml names another crate', publishFrame(publishMetadata('evil', '0.1.0'), crateBytes({ name: 'evil', version: '0.1.0', manifest: manifestOf({ name: 'serde', version: '0.1.0' }) })), 400, /names crate "serde"/],
      ['Cargo.toml has another version', publishFrame(publishMetadata('evil', '0.1.0'), crateBytes({ name: 'evil', version: '0.1.0', manifest: manifestOf({ name: 'evil', version: '9.0.0' }) })), 400, /has version "9\.0\.0"/],
      ['entries under another directory', publishFrame(publishMetadata('evil', '0.1.0'), good('other', '0.1.0')), 400, /is not under "evil-0\.1\.0\/"/],
      ['not gzip', publishFrame(publishMetadata('evil', '0.1.0'), Buffer.from('just some bytes')), 400, /invalid \.crate/],
      ['truncated frame', publishFrame(publishMetadata('evil', '0.1.0'), good('evil', '0.1.0')).subarray(0, 300), 400, /ended|truncated/],
      ['declared .crate larger than allowed', (() => {
        const f = publishFrame(publishMetadata('evil', '0.1.0'), good('evil', '0.1.0'))
        const json = f.readUInt32LE(0)
        f.writeUInt32LE(10 * 1024 * 1024, 4 + json)
        return f
      })(), 413, /max upload size/],
      ['metadata that is not JSON', Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('{{{'), Buffer.from([1, 0, 0, 0, 0])]), 400, /not valid JSON/],
    ]
    for (const [what, body, status, re] of cases) {
      const res = await raw(hub, 'PUT', '/api/v1/crates/new', ALICE, body)
      assert.is(res.status, status, `${what}: ${res.text()}`)
      const detail = res.json().errors?.[0]?.detail as string
      assert.match(detail, re, what)
    }
    for (const path of ['/registry/3/e/evil', '/registry/se/rd/serde', '/registry/3/n/nul']) {
      assert.is((await raw(hub, 'GET', path, ADMIN)).status, 404, path)
    }
    assert.is((await raw(hub, 'GET', '/registry/dl/evil/0.1.0/download', ADMIN)).status, 404)
    assert.equal((await raw(hub, 'GET', '/api/v1/crates?q=evil', ADMIN)).json().crates, [])
  })

  Local('crates.io\'s name rule: a name differing only in case or -/_ is taken; a repeated version is 409', async ({ hub }) => {
    const publish = (name: string, version = '0.1.0') => raw(hub, 'PUT', '/api/v1/crates/new', ALICE, publishFrame(publishMetadata(name, version), crateBytes({ name, version })))
    assert.is((await publish('foo-bar')).status, 200)
    const underscore = await publish('foo_bar')
    assert.is(underscore.status, 409)
    assert.match(underscore.json().errors[0].detail, /collides with the existing crate `foo-bar`/)
    assert.is((await publish('Foo-Bar')).status, 409)
    assert.is((await publish('mix-ed_name')).status, 200)
    assert.is((await publish('mix_ed-name')).status, 409, 'mixed spellings collide too')
    assert.is((await publish('foo-bar')).status, 409, 'the same version again')
    assert.is((await publish('foo-bar', '0.2.0')).status, 200)
    assert.is((await raw(hub, 'GET', '/registry/fo/o_/foo_bar', ALICE)).status, 404)
  })

  Local.run()
}
