/**
 * Package Explorer API (seed package-explorer "REST API"): the catalog, registry statistics,
 * package detail, upstream search, and the admin cache flush.
 *
 * @remarks
 * Every endpoint answers any caller, anonymous included, but only about registries the caller may
 * explore: proxy access (`releases:read`) AND the role's `[registries.rbac.explore]` flag
 * ({@link RegistryRbac.canExplore}). A registry the caller may not explore is treated as absent.
 * Catalog, statistics and detail reads go through the {@link ExploreCache}; upstream search is live.
 */
import Type from 'typebox'
import { NotFoundError, type Identity, type LoggerService } from '@batlehub/sdk'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'
import type { ExploreCache } from '../explore/cache.ts'
import type { ExploreCatalog, ExploreSort } from '../explore/catalog.ts'

export interface ExploreApiDeps {
  hosts: () => readonly RegistryHost[]
  catalog: ExploreCatalog
  cache: ExploreCache
  log: LoggerService
  /** Whether `[registries.beta_channel] enabled` is set for a registry. */
  betaEnabled: (registry: string) => boolean
  /** Time limit of one registry's upstream search. */
  upstreamSearchTimeoutMs: number
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const ExplorePackageSchema = Type.Object({
  registry: Type.String(),
  name: Type.String(),
  version_count: Type.Integer(),
  total_downloads: Type.Integer(),
  last_accessed: Nullable(Type.String({ format: 'date-time' })),
  source: Type.Union([Type.Literal('proxied'), Type.Literal('local'), Type.Literal('both')]),
  has_blocked: Type.Boolean(),
}, { $id: 'ExplorePackage' })

export const FirewallSchema = Type.Object({
  status: Type.Union([Type.Literal('clear'), Type.Literal('blocked'), Type.Literal('yanked')]),
  reason: Type.Optional(Nullable(Type.String())),
  blocked_by: Type.Optional(Nullable(Type.String())),
  blocked_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
}, { $id: 'FirewallStatus' })

export const ExploreVersionSchema = Type.Object({
  version: Type.String(),
  source: Type.Union([Type.Literal('proxied'), Type.Literal('local')]),
  firewall: FirewallSchema,
  download_count: Type.Integer(),
  last_accessed: Nullable(Type.String({ format: 'date-time' })),
  published_at: Nullable(Type.String({ format: 'date-time' })),
  is_prerelease: Type.Boolean(),
}, { $id: 'ExploreVersion' })

const ListQuery = Type.Object({
  registry: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Filter to a single registry' })),
  name: Type.Optional(Type.String({ maxLength: 256, description: 'Substring of the package name (case-insensitive)' })),
  sort: Type.Union([Type.Literal('downloads'), Type.Literal('name'), Type.Literal('recent')], { default: 'downloads' }),
  page: Type.Integer({ minimum: 0, maximum: 100000, default: 0, description: 'Zero-based page number' }),
  per_page: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
})

const UpstreamQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, description: 'Search query' }),
  registry: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Limit to a single registry' })),
  limit: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Maximum results per registry' }),
})

/** Part of a cache key: callers who see the same local packages share entries. */
function visibilityKey(identity: Identity): string {
  if (identity.role === 'admin') return 'admin'
  if (identity.role === 'anonymous') return 'anonymous'
  return `user:${identity.subject}:${[...identity.groups].sort().join(',')}`
}

/** The registries the caller may browse, in configuration order. */
export function explorableHosts(hosts: readonly RegistryHost[], identity: Identity): RegistryHost[] {
  return hosts.filter((h) => h.rbac.canExplore(identity))
}

export function registerExploreApi(api: ApiRouter, deps: ExploreApiDeps): void {
  const visible = (identity: Identity, only?: string): string[] =>
    explorableHosts(deps.hosts(), identity).map((h) => h.info.name).filter((n) => only === undefined || n === only)

  const report = (what: string, state: string, error: unknown) => {
    if (error) deps.log.warn(`explorer: database read failed (${what}), ${state === 'stale' ? 'serving stale results' : 'nothing cached'}`, { err: (error as Error)?.message ?? String(error) })
  }

  api.add<{ registry?: string; name?: string; sort: ExploreSort; page: number; per_page: number }, never>({
    method: 'GET',
    path: '/api/v1/explore/packages',
    summary: 'Catalog of proxied and locally published packages, one row per package',
    tags: ['explore'],
    access: 'public',
    query: ListQuery,
    response: Type.Object({
      items: Type.Array(ExplorePackageSchema),
      total: Type.Integer(),
      page: Type.Integer(),
      per_page: Type.Integer(),
      upstream_unavailable: Type.Boolean({ description: 'The database was unreachable and nothing was cached for this query' }),
    }),
    handler: async ({ identity, query }) => {
      const registries = visible(identity, query.registry)
      const name = query.name?.trim() || undefined
      const key = JSON.stringify(['packages', visibilityKey(identity), registries, name ?? '', query.sort, query.page, query.per_page])
      const read = await deps.cache.read(key, registries, () =>
        deps.catalog.listPackages({ registries, name, sort: query.sort, page: query.page, perPage: query.per_page, identity }))
      report('packages', read.state, read.error)
      return {
        items: read.value?.items ?? [],
        total: read.value?.total ?? 0,
        page: query.page,
        per_page: query.per_page,
        upstream_unavailable: read.state === 'unavailable',
      }
    },
  })

  api.add({
    method: 'GET',
    path: '/api/v1/explore/registries',
    summary: 'Package counts and download totals of the registries that hold packages',
    tags: ['explore'],
    access: 'public',
    response: Type.Object({
      registries: Type.Array(Type.Object({ registry: Type.String(), package_count: Type.Integer(), total_downloads: Type.Integer() })),
      upstream_unavailable: Type.Boolean(),
    }),
    handler: async ({ identity }) => {
      const registries = visible(identity)
      const key = JSON.stringify(['registries', visibilityKey(identity), registries])
      const read = await deps.cache.read(key, registries, () => deps.catalog.registryStats({ registries, identity }))
      report('registries', read.state, read.error)
      return { registries: read.value ?? [], upstream_unavailable: read.state === 'unavailable' }
    },
  })

  api.add({
    method: 'GET',
    // Names may contain slashes (`@types/node`, `hashicorp/aws`): the rest of the path is the name,
    // percent-encoded or not.
    path: '/api/v1/explore/packages/:registry/*name',
    summary: 'Every known version of a package, its firewall status, and the caller\'s access gate',
    tags: ['explore'],
    access: 'public',
    errors: [404],
    response: Type.Object({
      registry: Type.String(),
      name: Type.String(),
      gate: Type.Object({
        registry_accessible: Type.Boolean({ description: 'The caller can proxy from this registry' }),
        beta_member: Type.Boolean({ description: 'Pre-release versions are visible to the caller' }),
        beta_channel_enabled: Type.Boolean({ description: 'The registry gates pre-releases to its beta channel' }),
      }),
      versions: Type.Array(ExploreVersionSchema),
      upstream_unavailable: Type.Boolean(),
    }),
    handler: async ({ identity, params }) => {
      const registry = params.registry!
      const requested = [params.name].flat().join('/')
      const host = explorableHosts(deps.hosts(), identity).find((h) => h.info.name === registry)
      if (!host || !requested) throw new NotFoundError(`no package ${JSON.stringify(requested)} in registry ${JSON.stringify(registry)}`)
      let normalized = requested
      try {
        normalized = host.hooks.normalizeName?.(requested) ?? requested
      } catch {
        // A name the plugin cannot normalise is looked up as given.
      }
      const key = JSON.stringify(['package', visibilityKey(identity), registry, requested])
      const read = await deps.cache.read(key, [registry], () =>
        deps.catalog.packageVersions({ registry, names: [requested, normalized], identity }))
      report('package', read.state, read.error)
      if (read.state !== 'unavailable' && read.value === null) {
        throw new NotFoundError(`no package ${JSON.stringify(requested)} in registry ${JSON.stringify(registry)}`)
      }
      const betaEnabled = deps.betaEnabled(registry)
      let betaMember = !betaEnabled || identity.role === 'admin'
      if (!betaMember) {
        try {
          betaMember = await deps.catalog.isBetaMember(registry, identity)
        } catch (err) {
          report('beta channel', 'unavailable', err)
        }
      }
      const versions = (read.value?.versions ?? []).filter((v) => betaMember || !v.is_prerelease)
      return {
        registry,
        name: read.value?.name ?? requested,
        gate: { registry_accessible: host.rbac.can(identity, 'releases:read'), beta_member: betaMember, beta_channel_enabled: betaEnabled },
        versions,
        upstream_unavailable: read.state === 'unavailable',
      }
    },
  })

  api.add<{ name: string; registry?: string; limit: number }, never>({
    method: 'GET',
    path: '/api/v1/explore/upstream',
    summary: 'Live search of the upstream registries the caller may explore (never cached)',
    tags: ['explore'],
    access: 'public',
    query: UpstreamQuery,
    response: Type.Object({
      items: Type.Array(Type.Object({
        registry: Type.String(),
        name: Type.String(),
        latest_version: Nullable(Type.String()),
        description: Nullable(Type.String()),
        already_cached: Type.Boolean(),
      })),
    }),
    handler: async ({ identity, query }) => {
      const q = query.name.trim()
      const hosts = explorableHosts(deps.hosts(), identity).filter((h) =>
        (query.registry === undefined || h.info.name === query.registry) &&
        h.info.mode !== 'local' &&
        h.info.searchUrl !== '' && // seed: search_url = "" disables upstream search
        typeof h.hooks.searchUpstream === 'function')
      if (!q) return { items: [] }
      const perRegistry = await Promise.all(hosts.map(async (h) => {
        try {
          const hits = await h.hooks.searchUpstream!(q, { limit: query.limit, signal: AbortSignal.timeout(deps.upstreamSearchTimeoutMs) })
          const list = (Array.isArray(hits) ? hits : []).filter((x) => x && typeof x.name === 'string' && x.name).slice(0, query.limit)
          let cached = new Set<string>()
          try {
            cached = await deps.catalog.cachedNames(h.info.name, list.map((x) => x.name))
          } catch (err) {
            report('cached names', 'unavailable', err)
          }
          return list.map((x) => ({
            registry: h.info.name,
            name: x.name,
            latest_version: typeof x.latestVersion === 'string' ? x.latestVersion : null,
            description: typeof x.description === 'string' ? x.description : null,
            already_cached: cached.has(x.name.toLowerCase()),
          }))
        } catch (err) {
          // Seed: "Upstream search failures are silently swallowed".
          deps.log.debug('explorer: upstream search failed', { registry: h.info.name, err: (err as Error)?.message ?? String(err) })
          return []
        }
      }))
      return { items: perRegistry.flat() }
    },
  })

  api.add<never, { registry?: string }>({
    method: 'POST',
    path: '/api/v1/admin/explore/invalidate',
    summary: 'Flush the explorer cache of one registry, or all of it (this replica only)',
    tags: ['explore', 'admin'],
    access: 'admin',
    body: Type.Object({ registry: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { additionalProperties: false }),
    response: Type.Object({ ok: Type.Literal(true) }),
    handler: ({ body, identity }) => {
      const removed = deps.cache.invalidate(body.registry)
      deps.log.info('explorer cache flushed', { registry: body.registry ?? '*', entries: removed, by: identity.userId })
      return { ok: true as const }
    },
  })
}
