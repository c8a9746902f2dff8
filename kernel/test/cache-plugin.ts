/**
 * A small registry plugin for the cache tests: its routes call `ctx.cache` the way protocol plugins
 * do, and its hooks feed warming. Each test builds its own instance around a `CacheTestState`.
 */
import {
  BASE_URL_PLACEHOLDER, defineRegistryPlugin, NotFoundError, reply,
  type ArtifactRequest, type DigestAlgorithm, type RegistryHooks, type VersionSummary,
} from '@batlehub/sdk'

export interface CacheTestState {
  /** Transform calls per metadata key. */
  transforms: Map<string, number>
  /** Declared digests per upstream file name. */
  expect: Map<string, Partial<Record<DigestAlgorithm, string>>>
  /** Artifact size limit per request, when set. */
  maxBytes?: number
  /** listVersions answers per package; absent = null. */
  versions: Map<string, VersionSummary[]>
  /** Leave out the warming hooks (a plugin without them). */
  noHooks?: boolean
}

/** A table name as raw SQL needs it (PostgreSQL tests run in their own schema). */
export function table(db: { dialect: string; schema?: string }, name: string): string {
  return db.dialect === 'postgresql' && db.schema ? `"${db.schema}"."${name}"` : `"${name}"`
}

export function newState(): CacheTestState {
  return { transforms: new Map(), expect: new Map(), versions: new Map() }
}

function artifactOf(state: CacheTestState, name: string, version: string, file: string): ArtifactRequest {
  const expect = state.expect.get(file)
  return {
    key: `files/${name}/${file}`,
    name,
    version,
    upstream: { path: `/files/${file}` },
    contentType: 'application/octet-stream',
    ...(expect ? { expect } : {}),
    ...(state.maxBytes !== undefined ? { maxBytes: state.maxBytes } : {}),
    publishedAt: '2024-01-02T03:04:05.000Z',
  }
}

export function cacheTestPlugin(state: CacheTestState, id = 'cachetest') {
  return defineRegistryPlugin({
    id,
    capabilities: { proxy: true, publish: true, search: false, yank: false },
    // A protocol-shaped error body, so tests can tell the plugin's answer from a cut connection.
    formatError: (err) => ({ contentType: 'text/plain; charset=utf-8', body: `cachetest error ${err.status} ${err.code}: ${err.message}\n` }),
    setup(ctx) {
      const meta = async (req: import('@batlehub/sdk').RegistryRequest) => {
        const name = req.params.name!
        const key = `doc/${name}`
        const ttl = req.query.get('ttl')
        const entry = await ctx.cache.metadata({
          key,
          name,
          upstream: { path: `/meta/${name}` },
          contentType: 'application/json',
          ...(ttl !== null ? { ttlSecs: Number(ttl) } : {}),
          signal: req.signal,
          transform(body, info) {
            state.transforms.set(key, (state.transforms.get(key) ?? 0) + 1)
            const text = body.toString('utf8')
            if (text === 'absent') return null
            // Upstream URLs become the placeholder, rendered per client later.
            return text.split(info.upstream).join(BASE_URL_PLACEHOLDER)
          },
        })
        if (!entry) throw new NotFoundError(`no document ${name}`)
        const extra = req.query.get('x')
        return ctx.cache.serveMetadata(entry, req, extra ? { replacements: { '@@X@@': extra } } : {})
      }
      ctx.routes.get('/meta/:name', meta)
      ctx.routes.head('/meta/:name', meta)
      ctx.routes.delete('/meta/:name', async (req) => {
        await ctx.cache.invalidateMetadata(`doc/${req.params.name}`)
        return reply.empty()
      }, { permission: 'releases:read' })

      const file = (req: import('@batlehub/sdk').RegistryRequest) =>
        ctx.cache.artifact(artifactOf(state, req.params.name!, req.params.version!, req.params.file!), req)
      ctx.routes.get('/files/:name/:version/:file', file)
      ctx.routes.head('/files/:name/:version/:file', file)
      ctx.routes.get('/has/:name/:file', async (req) => reply.json({ cached: await ctx.cache.hasArtifact(`files/${req.params.name}/${req.params.file}`) }))
      // A "published" file in the same registry, written through the plugin's own storage.
      ctx.routes.put('/local/:file', async (req) => {
        const stored = await ctx.storage.put({ key: `local/${req.params.file}`, body: req.body.stream() })
        return reply.json({ key: stored.key }, 201)
      }, { permission: '*' })
      ctx.routes.get('/local/:file', async (req) => (await ctx.storage.serve({ key: `local/${req.params.file}`, request: req })) ?? reply.empty(404))

      if (state.noHooks) return {}
      const hooks: RegistryHooks = {
        async listVersions(name) {
          return state.versions.get(name) ?? null
        },
        async artifactsFor(name, version) {
          return [artifactOf(state, name, version, `${name}-${version}.tgz`)]
        },
      }
      return hooks
    },
  })
}
