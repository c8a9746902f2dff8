/**
 * Cache administration (seed "Clear registry cache", "Invalidate cache", "List packages",
 * "On-demand warming via admin API"), admin role only.
 */
import Type from 'typebox'
import type { ApiRouter } from './api-router.ts'
import type { CacheManager } from '../cache/manager.ts'

const Counts = Type.Object({
  artifacts: Type.Integer({ description: 'Cached artifacts removed' }),
  metadata: Type.Integer({ description: 'Cached metadata documents removed' }),
})

export const PackageListItemSchema = Type.Object({
  registry: Type.String(),
  name: Type.String(),
  version: Type.Union([Type.String(), Type.Null()], { description: 'null for artifacts the plugin gave no version' }),
  cached: Type.Boolean({ description: 'Whether artifacts of this version are in the cache' }),
  size_bytes: Type.Integer({ description: 'Bytes of the cached artifacts' }),
  download_count: Type.Integer(),
  last_accessed: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  cached_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'CachedPackage' })

export const WarmBody = Type.Object({
  package: Type.String({ minLength: 1, description: '"name" warms the newest versions; "name@version" exactly one' }),
  versions: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Versions of a bare name to warm (default warm_latest_n)' })),
}, { additionalProperties: false })

export const WarmResultSchema = Type.Object({
  warmed: Type.Integer({ description: 'Versions fetched and stored in this run' }),
  skipped: Type.Integer({ description: 'Versions already in the cache' }),
  errors: Type.Integer({ description: 'Versions that failed to fetch or store' }),
})

export const InvalidateBody = Type.Object({
  registry: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  version: Type.Optional(Type.String({ minLength: 1, description: 'Without it, every cached version of the package' })),
}, { additionalProperties: false })

export function registerCacheAdminApi(api: ApiRouter, cache: CacheManager): void {
  api.add<unknown, unknown>({
    method: 'POST',
    path: '/api/v1/admin/registries/:registry/clear-cache',
    summary: 'Remove every cached artifact and metadata document of a registry (local packages stay)',
    tags: ['admin', 'cache'],
    access: 'admin',
    response: Type.Object({ cleared: Counts }),
    errors: [404],
    handler: async ({ params }) => ({ cleared: await cache.clearRegistry(params.registry!) }),
  })

  api.add<unknown, { registry: string; name: string; version?: string }>({
    method: 'POST',
    path: '/api/v1/admin/packages/invalidate',
    summary: "Remove a version's cached artifacts (and the package's cached metadata) so the next request refetches",
    tags: ['admin', 'cache'],
    access: 'admin',
    body: InvalidateBody,
    response: Type.Object({ invalidated: Counts }),
    errors: [404],
    handler: async ({ body }) => ({ invalidated: await cache.invalidatePackage(body.registry, body.name, body.version) }),
  })

  api.add<{ registry?: string; name?: string; page: number; per_page: number }, unknown>({
    method: 'GET',
    path: '/api/v1/admin/packages',
    summary: 'Known proxied packages and versions, with download counts and cache state',
    tags: ['admin', 'cache'],
    access: 'admin',
    query: Type.Object({
      registry: Type.Optional(Type.String({ minLength: 1 })),
      name: Type.Optional(Type.String({ minLength: 1, description: 'Exact package name' })),
      page: Type.Integer({ minimum: 0, default: 0, description: 'Zero-based page number' }),
      per_page: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
    }),
    response: Type.Object({
      items: Type.Array(PackageListItemSchema),
      total: Type.Integer(),
      page: Type.Integer(),
      per_page: Type.Integer(),
    }),
    handler: async ({ query }) => {
      if (query.registry) cache.registry(query.registry) // 404 for an unknown registry
      const { items, total } = await cache.listPackages({ registry: query.registry, name: query.name, page: query.page, perPage: query.per_page })
      return { items, total, page: query.page, per_page: query.per_page }
    },
  })

  api.add<unknown, { package: string; versions?: number }>({
    method: 'POST',
    path: '/api/v1/admin/registries/:registry/warm',
    summary: 'Pre-fetch the newest versions of a package (or one pinned version) into the cache',
    tags: ['admin', 'cache'],
    access: 'admin',
    body: WarmBody,
    response: WarmResultSchema,
    errors: [404, 501],
    handler: async ({ params, body, koa }) => {
      const controller = new AbortController()
      // An administrator who gives up waiting stops the run; what finished stays cached.
      koa.res.once('close', () => {
        if (!koa.res.writableFinished) controller.abort()
      })
      return cache.warm(params.registry!, body.package, { ...(body.versions !== undefined ? { versions: body.versions } : {}), signal: controller.signal })
    },
  })
}
