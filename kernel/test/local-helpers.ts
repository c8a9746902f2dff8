/**
 * Shared by the local-store tests: a small registry plugin whose routes call `ctx.packages`, and a
 * test hub with several users and groups and one registry per policy.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { defineRegistryPlugin, NotFoundError, type CoreEvents, type PublishFile, type PublishInput } from '@batlehub/sdk'
import { createTestKernel, type KernelTestHandle } from '../src/testing/index.ts'
import { qualified } from '../src/db/sql.ts'

export const TOKENS = {
  root: 'tok-root-0123456789abcdef',
  alice: 'tok-alice-0123456789abcdef',
  bob: 'tok-bob-0123456789abcdef', // oidc:frontend-team
  carol: 'tok-carol-0123456789abcdef', // oidc:backend-team
  dave: 'tok-dave-0123456789abcdef', // oidc:frontend-team, oidc:backend-team
} as const

/**
 * A registry type whose routes are thin wrappers of the local store, so that the tests go through
 * the whole HTTP path: auth chain, RBAC, the plugin route, the store, storage and the database.
 * Names are normalised like PEP 503 (lower case, runs of `-_.` → `-`).
 */
export const pkgsRegistry = defineRegistryPlugin({
  id: 'pkgs',
  capabilities: { proxy: true, publish: true, search: true, yank: true },
  setup(ctx) {
    const r = ctx.routes
    const pkgs = ctx.packages
    const signature = (h: (n: string) => string | undefined): PublishInput['signature'] => {
      const value = h('x-artifact-signature')
      return value !== undefined ? { value, type: h('x-signature-type') ?? '' } : undefined
    }
    r.put('/files/:name/:version/:filename', async (req) => {
      const sha256 = req.header('x-sha256')
      const tag = req.query.get('tag')
      const prerelease = req.query.get('prerelease')
      const result = await pkgs.publish({
        name: req.params.name!, version: req.params.version!, identity: req.identity,
        files: [{
          filename: req.params.filename!, body: req.body.stream(), contentType: req.header('content-type'),
          ...(sha256 ? { expect: { sha256 } } : {}), metadata: { field: 'file' },
        }],
        metadata: { via: 'put' },
        ...(req.query.get('description') ? { description: req.query.get('description')! } : {}),
        ...(tag ? { tags: { [tag]: req.params.version! } } : {}),
        ...(req.query.get('append') === '1' ? { appendToExisting: true } : {}),
        ...(prerelease !== null ? { prerelease: prerelease === '1' } : {}),
        signature: signature((n) => req.header(n)),
        signal: req.signal,
      })
      return { status: 201, headers: { ...result.headers }, body: { ...result } as Record<string, unknown> }
    })
    r.post('/multi/:name/:version', async (req) => {
      const body = await req.body.json<{ files: Array<{ filename: string; data: string; sha256?: string }> }>()
      const files: PublishFile[] = body.files.map((f) => ({ filename: f.filename, body: Buffer.from(f.data), ...(f.sha256 ? { expect: { sha256: f.sha256 } } : {}) }))
      const result = await pkgs.publish({ name: req.params.name!, version: req.params.version!, identity: req.identity, files })
      return { status: 201, headers: { ...result.headers }, body: { ...result } as Record<string, unknown> }
    })
    r.get('/packages/:name', async (req) => {
      const info = await pkgs.getPackage(req.params.name!, { identity: req.identity })
      if (!info) throw new NotFoundError(`no package ${req.params.name}`)
      return { body: info as unknown as Record<string, unknown> }
    })
    r.get('/files/:name/:version/:filename', async (req) => {
      const reply = await pkgs.serveFile(req.params.name!, req.params.version!, req.params.filename!, req)
      if (!reply) throw new NotFoundError('no such file')
      return reply
    })
    r.get('/open/:name/:version/:filename', async (req) => {
      const stream = await pkgs.openFile(req.params.name!, req.params.version!, req.params.filename!)
      if (!stream) throw new NotFoundError('no such file')
      return { body: stream }
    }, { permission: 'releases:write' })
    r.get('/search', async (req) => ({
      body: await pkgs.search(req.query.get('q') ?? '', {
        identity: req.identity,
        ...(req.query.get('limit') ? { limit: Number(req.query.get('limit')) } : {}),
        ...(req.query.get('offset') ? { offset: Number(req.query.get('offset')) } : {}),
      }),
    }))
    r.get('/exists/:name', async (req) => ({ body: { exists: await pkgs.exists(req.params.name!) } }))
    r.get('/can-manage/:name', async (req) => ({ body: { canManage: await pkgs.canManage(req.params.name!, req.identity) } }))
    r.post('/yank/:name/:version', async (req) => {
      const reason = await req.body.text()
      await pkgs.yank(req.params.name!, req.params.version!, { identity: req.identity, ...(reason ? { reason } : {}) })
    })
    r.post('/unyank/:name/:version', async (req) => pkgs.unyank(req.params.name!, req.params.version!, { identity: req.identity }))
    r.post('/deprecate/:name/:version', async (req) => {
      await pkgs.deprecate(req.params.name!, req.params.version!, { identity: req.identity, message: await req.body.text() })
    })
    r.delete('/packages/:name/:version', async (req) => pkgs.delete(req.params.name!, req.params.version!, { identity: req.identity }))
    r.delete('/packages/:name', async (req) => pkgs.delete(req.params.name!, undefined, { identity: req.identity }))
    r.put('/tags/:name/:tag/:version', async (req) => pkgs.setTag(req.params.name!, req.params.tag!, req.params.version!, { identity: req.identity }))
    r.delete('/tags/:name/:tag', async (req) => pkgs.removeTag(req.params.name!, req.params.tag!, { identity: req.identity }))
    r.get('/owners/:name', async (req) => ({ body: await pkgs.owners(req.params.name!) }))
    r.put('/owners/:name/:type/:id/:role', async (req) => pkgs.addOwner(req.params.name!, {
      principalType: req.params.type as 'user' | 'group', principalId: req.params.id!, role: req.params.role as 'admin' | 'maintainer',
    }, { identity: req.identity }))
    r.delete('/owners/:name/:type/:id', async (req) => pkgs.removeOwner(req.params.name!, {
      principalType: req.params.type as 'user' | 'group', principalId: req.params.id!,
    }, { identity: req.identity }))
    return { normalizeName: (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-') }
  },
})

const RBAC = { anonymous: ['releases:read', 'source:read'], user: ['releases:write'], admin: ['*'] }

/** A hub with registries `pkgs` (local), `hyb` (hybrid), `strict` (versioning), `signed`, `quota` (block), `soft` (warn), `mirror` (proxy). */
export async function localHub(dialect: 'sqlite' | 'postgresql', extra: Record<string, unknown>[] = []): Promise<KernelTestHandle> {
  return createTestKernel({
    database: dialect,
    plugins: [pkgsRegistry],
    config: {
      auth: [{ type: 'token', tokens: [
        { value: TOKENS.root, role: 'admin', user_id: 'root' },
        { value: TOKENS.alice, role: 'user', user_id: 'alice' },
        { value: TOKENS.bob, role: 'user', user_id: 'bob', groups: ['oidc:frontend-team'] },
        { value: TOKENS.carol, role: 'user', user_id: 'carol', groups: ['oidc:backend-team'] },
        { value: TOKENS.dave, role: 'user', user_id: 'dave', groups: ['oidc:frontend-team', 'oidc:backend-team'] },
      ] }],
      registries: [
        { name: 'pkgs', type: 'pkgs', mode: 'local', rbac: RBAC },
        { name: 'hyb', type: 'pkgs', mode: 'hybrid', upstreams: ['http://127.0.0.1:9'], rbac: RBAC },
        { name: 'strict', type: 'pkgs', mode: 'local', rbac: RBAC, versioning: { enforce_semver: true, allow_prerelease: false, version_pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' } },
        { name: 'loose', type: 'pkgs', mode: 'local', rbac: RBAC, versioning: { version_pattern: '^[0-9]' } },
        { name: 'signed', type: 'pkgs', mode: 'local', rbac: RBAC, signing: { required: true, allowed_types: ['pgp', 'ed25519'] } },
        { name: 'quota', type: 'pkgs', mode: 'local', rbac: RBAC, quota: { max_storage_bytes_per_user: 100, max_packages_per_user: 2, enforcement: 'block' } },
        { name: 'soft', type: 'pkgs', mode: 'local', rbac: RBAC, quota: { max_storage_bytes_per_user: 10, max_packages_per_user: 1, enforcement: 'warn' } },
        { name: 'mirror', type: 'pkgs', mode: 'proxy', upstreams: ['http://127.0.0.1:9'], rbac: RBAC },
        ...extra,
      ],
    },
  })
}

/** Records the package events of a hub. */
export function recordEvents(hub: KernelTestHandle): Array<{ event: string; payload: any }> {
  const seen: Array<{ event: string; payload: any }> = []
  const names: Array<keyof CoreEvents> = ['core:package.published', 'core:package.yanked', 'core:package.unyanked', 'core:package.deprecated', 'core:package.deleted']
  for (const event of names) hub.kernel.bus.on(event, (payload) => void seen.push({ event, payload }))
  return seen
}

/** Storage and row counts, to prove a refused publish stored nothing. */
export async function footprint(hub: KernelTestHandle): Promise<{ refs: number; blobs: number; blobFiles: number; versions: number; files: number; packages: number }> {
  const db = hub.kernel.db
  const count = async (sql: string) => Number((await db.execute(sql))[0]!.n)
  const blobDir = join(hub.dataDir, 'storage', 'blob')
  return {
    refs: await count(`select count(*) as n from ${qualified(db, 'storage_refs')} where "key" like 'local/%'`),
    blobs: await count(`select count(*) as n from ${qualified(db, 'storage_blobs')}`),
    blobFiles: existsSync(blobDir) ? readdirSync(blobDir).length : 0,
    versions: await count(`select count(*) as n from ${qualified(db, 'local_versions')}`),
    files: await count(`select count(*) as n from ${qualified(db, 'local_files')}`),
    packages: await count(`select count(*) as n from ${qualified(db, 'local_packages')}`),
  }
}

/** PUT one file. */
export function put(hub: KernelTestHandle, registry: string, token: string | undefined, name: string, version: string, filename: string, body: string | Buffer, headers: Record<string, string> = {}, query = '') {
  const path = `/proxy/${registry}/files/${encodeURIComponent(name)}/${encodeURIComponent(version)}/${encodeURIComponent(filename)}${query}`
  return hub.request('PUT', path, { token, body, headers: { 'content-type': 'application/octet-stream', ...headers } })
}
