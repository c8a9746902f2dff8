/**
 * Admin API of private registries (seed readme "Private registry — advanced features",
 * administration "Team Namespaces & Package Visibility"): owners, namespace claims, visibility
 * and bulk yank/unyank/delete. Admin role only.
 *
 * Package names may hold `/` and `@`: they arrive percent-encoded (`%2F`, `%40`) in one path
 * segment. Namespace prefixes may hold slashes and are passed verbatim, hence the splat route.
 */
import Type from 'typebox'
import { InputError, NotFoundError, toErrorInfo, type Identity } from '@batlehub/sdk'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'
import type { LocalStore, LocalStores } from '../local/index.ts'

const BASE = '/api/v1/admin/registries/:registry'
const TAGS = ['private registries']

const PrincipalType = Type.Union([Type.Literal('user'), Type.Literal('group')])
const OwnerRole = Type.Union([Type.Literal('admin'), Type.Literal('maintainer')])
const VisibilitySchema = Type.Union([Type.Literal('public'), Type.Literal('internal'), Type.Literal('team')], {
  description: 'public: everyone; internal: any authenticated user; team: members of the group owning the namespace',
})

export const OwnerBody = Type.Object({
  principal_type: PrincipalType,
  principal_id: Type.String({ minLength: 1, maxLength: 255, description: 'User id (`alice`) or group id (`oidc:backend-team`)' }),
  role: OwnerRole,
}, { $id: 'PackageOwner' })

export const OwnerInput = Type.Object({
  principal_type: PrincipalType,
  principal_id: Type.String({ minLength: 1, maxLength: 255 }),
  role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('maintainer')], { default: 'maintainer' })),
}, { additionalProperties: false })

export const ClaimBody = Type.Object({
  prefix: Type.String(),
  group_id: Type.String(),
  claimed_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ description: 'ISO-8601' }),
}, { $id: 'NamespaceClaim' })

export const ClaimInput = Type.Object({
  prefix: Type.String({ minLength: 1, maxLength: 512 }),
  group_id: Type.String({ minLength: 1, maxLength: 255 }),
  claimed_by: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
}, { additionalProperties: false })

export const VisibilityBody = Type.Object({ name: Type.String(), visibility: VisibilitySchema }, { $id: 'PackageVisibility' })

export const BulkInput = Type.Object({
  packages: Type.Array(Type.Object({
    name: Type.String({ minLength: 1 }),
    version: Type.String({ minLength: 1 }),
  }), { maxItems: 10_000 }),
  reason: Type.Optional(Type.String({ maxLength: 4096, description: 'Yank reason (bulk-yank)' })),
}, { additionalProperties: false })

export const BulkResult = Type.Object({
  processed: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Array(Type.Object({ name: Type.String(), version: Type.String(), error: Type.String() })),
}, { $id: 'BulkResult' })

export interface LocalAdminDeps {
  hosts: () => ReadonlyMap<string, RegistryHost>
  stores: LocalStores
}

export function registerLocalAdminApi(api: ApiRouter, deps: LocalAdminDeps): void {
  /** The store of a registry that hosts packages; 404 for an unknown registry, 400 for a proxy. */
  const storeOf = (registry: string | undefined): LocalStore => {
    const host = registry ? deps.hosts().get(registry) : undefined
    const store = registry ? deps.stores.get(registry) : undefined
    if (!host || !store) throw new NotFoundError(`no registry named ${JSON.stringify(registry)}`)
    if (host.info.mode !== 'local' && host.info.mode !== 'hybrid') {
      throw new InputError(`registry ${registry} is in ${host.info.mode} mode and has no local packages; private-registry features need mode = "local" or "hybrid"`)
    }
    return store
  }
  const packageOf = async (store: LocalStore, name: string | undefined) => {
    if (!name || !(await store.exists(name))) throw new NotFoundError(`no package ${JSON.stringify(name ?? '')} in registry ${store.registry}`)
    return name
  }
  const ownersBody = async (store: LocalStore, name: string) => ({
    owners: (await store.owners(name)).map((o) => ({ principal_type: o.principalType, principal_id: o.principalId, role: o.role })),
  })

  api.add({
    method: 'GET',
    path: `${BASE}/packages/:name/owners`,
    summary: 'Owners of a local package (percent-encode `/` and `@` in the name)',
    tags: TAGS,
    access: 'admin',
    response: Type.Object({ owners: Type.Array(OwnerBody) }),
    errors: [404],
    handler: async ({ params }) => {
      const store = storeOf(params.registry)
      return ownersBody(store, await packageOf(store, params.name))
    },
  })

  api.add<unknown, { principal_type: 'user' | 'group'; principal_id: string; role: 'admin' | 'maintainer' }>({
    method: 'POST',
    path: `${BASE}/packages/:name/owners`,
    summary: 'Adds an owner to a local package (or changes its role)',
    tags: TAGS,
    access: 'admin',
    body: OwnerInput,
    response: Type.Object({ owners: Type.Array(OwnerBody) }),
    status: 201,
    errors: [404, 409],
    handler: async ({ params, body, identity }) => {
      const store = storeOf(params.registry)
      const name = await packageOf(store, params.name)
      await store.addOwner(name, { principalType: body.principal_type, principalId: body.principal_id, role: body.role }, { identity })
      return ownersBody(store, name)
    },
  })

  api.add({
    method: 'DELETE',
    path: `${BASE}/packages/:name/owners/:principal_type/:principal_id`,
    summary: 'Removes an owner of a local package (never the last admin owner)',
    tags: TAGS,
    access: 'admin',
    response: Type.Object({ owners: Type.Array(OwnerBody) }),
    errors: [404, 409],
    handler: async ({ params, identity }) => {
      const store = storeOf(params.registry)
      const name = await packageOf(store, params.name)
      const type = params.principal_type
      if (type !== 'user' && type !== 'group') throw new InputError('principal type must be "user" or "group"')
      await store.removeOwner(name, { principalType: type, principalId: params.principal_id ?? '' }, { identity })
      return ownersBody(store, name)
    },
  })

  const claimBody = (c: { prefix: string; groupId: string; claimedBy?: string; createdAt: string }) => ({
    prefix: c.prefix, group_id: c.groupId, claimed_by: c.claimedBy ?? null, created_at: c.createdAt,
  })

  api.add({
    method: 'GET',
    path: `${BASE}/namespaces`,
    summary: 'Namespace claims of a registry',
    tags: TAGS,
    access: 'admin',
    response: Type.Object({ namespaces: Type.Array(ClaimBody) }),
    errors: [404],
    handler: async ({ params }) => ({ namespaces: (await storeOf(params.registry).claims()).map(claimBody) }),
  })

  api.add<unknown, { prefix: string; group_id: string; claimed_by?: string }>({
    method: 'POST',
    path: `${BASE}/namespaces`,
    summary: 'Claims a package-name prefix for a group: only its members (and admins) may publish under it',
    tags: TAGS,
    access: 'admin',
    body: ClaimInput,
    response: ClaimBody,
    status: 201,
    errors: [404, 409],
    handler: async ({ params, body, identity }) => claimBody(await storeOf(params.registry).addClaim({
      prefix: body.prefix, groupId: body.group_id, claimedBy: body.claimed_by ?? identity.userId,
    })),
  })

  api.add({
    method: 'DELETE',
    path: `${BASE}/namespaces/*prefix`,
    summary: 'Releases a namespace claim (the prefix may contain slashes, passed verbatim)',
    tags: TAGS,
    access: 'admin',
    response: Type.Object({ released: Type.String() }),
    errors: [404],
    handler: async ({ params, koa }) => {
      const store = storeOf(params.registry)
      // Verbatim, trailing slash included (`frontend/` and `frontend` are different claims): taken
      // from the raw path rather than the router's splat, which drops a trailing slash.
      const marker = `/registries/${encodeURIComponent(params.registry ?? '')}/namespaces/`
      const at = koa.path.indexOf(marker)
      const raw = at >= 0 ? koa.path.slice(at + marker.length) : params.prefix ?? ''
      let prefix: string
      try {
        prefix = decodeURIComponent(raw)
      } catch {
        throw new InputError('malformed percent-encoding in the prefix')
      }
      await store.removeClaim(prefix)
      return { released: prefix }
    },
  })

  api.add({
    method: 'GET',
    path: `${BASE}/packages/:name/visibility`,
    summary: 'Visibility of a local package',
    tags: TAGS,
    access: 'admin',
    response: VisibilityBody,
    errors: [404],
    handler: async ({ params }) => storeOf(params.registry).visibility(params.name ?? ''),
  })

  api.add<unknown, { visibility: 'public' | 'internal' | 'team' }>({
    method: 'PUT',
    path: `${BASE}/packages/:name/visibility`,
    summary: 'Sets the visibility of a local package (every version; takes effect on the next request)',
    tags: TAGS,
    access: 'admin',
    body: Type.Object({ visibility: VisibilitySchema }, { additionalProperties: false }),
    response: VisibilityBody,
    errors: [404],
    handler: async ({ params, body }) => storeOf(params.registry).setVisibility(params.name ?? '', body.visibility),
  })

  const bulk = (op: 'yank' | 'unyank' | 'delete', summary: string) => api.add<unknown, { packages: Array<{ name: string; version: string }>; reason?: string }>({
    method: 'POST',
    path: `${BASE}/bulk-${op}`,
    summary,
    tags: TAGS,
    access: 'admin',
    body: BulkInput,
    response: BulkResult,
    errors: [404],
    handler: async ({ params, body, identity }) => {
      const store = storeOf(params.registry)
      const failed: Array<{ name: string; version: string; error: string }> = []
      let succeeded = 0
      for (const item of body.packages) {
        try {
          await apply(store, op, item, identity, body.reason)
          succeeded++
        } catch (err) {
          const info = toErrorInfo(err)
          failed.push({ name: item.name, version: item.version, error: info.message })
        }
      }
      return { processed: body.packages.length, succeeded, failed }
    },
  })
  bulk('yank', 'Yanks many versions: each stays downloadable by exact version, hidden from "latest"')
  bulk('unyank', 'Unyanks many versions')
  bulk('delete', 'Deletes many versions and their files')
}

function apply(store: LocalStore, op: 'yank' | 'unyank' | 'delete', item: { name: string; version: string }, identity: Identity, reason?: string): Promise<void> {
  switch (op) {
    case 'yank': return store.yank(item.name, item.version, { identity, ...(reason ? { reason } : {}) })
    case 'unyank': return store.unyank(item.name, item.version, { identity })
    case 'delete': return store.delete(item.name, item.version, { identity })
  }
}
