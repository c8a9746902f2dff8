/**
 * `@batlehub/registry-cargo`: Cargo registries (`type = "cargo"`).
 *
 * - proxy: a sparse index of the upstream (index.crates.io by default) served from the metadata
 *   cache, and `.crate` downloads cached once and verified against the index `cksum`;
 * - local: crates published with `cargo publish`, yanked with `cargo yank`, owned with `cargo owner`;
 * - hybrid: local crates first, the upstream for every other name.
 */
import { defineRegistryPlugin } from '@batlehub/sdk'
import { CargoConfig } from './config.ts'
import { formatCargoError } from './errors.ts'
import { normalizeCrateName } from './names.ts'
import { sparseIndexRoutes } from './routes/sparse-index.ts'
import { webApiRoutes } from './routes/web-api.ts'
import { CargoService } from './service.ts'
import { setupSnippets } from './snippets.ts'

export const cargoRegistry = defineRegistryPlugin({
  id: 'cargo',
  config: CargoConfig,
  capabilities: { proxy: true, publish: true, search: true, yank: true },
  defaultUpstreams: ['https://index.crates.io'],
  setup(ctx) {
    const service = new CargoService(ctx)
    webApiRoutes(service)
    sparseIndexRoutes(service)
    return {
      normalizeName: normalizeCrateName,
      listVersions: (name, { signal }) => service.listVersions(name, signal),
      artifactsFor: (name, version, { signal }) => service.artifactsFor(name, version, signal),
      searchUpstream: async (query, { limit, signal }) => {
        if (ctx.registry.mode === 'local') return []
        const { crates } = await service.upstream.search(query, Math.min(100, Math.max(1, limit)), signal)
        return crates.map((c) => ({ name: c.name, ...(c.max_version ? { latestVersion: c.max_version } : {}), ...(c.description ? { description: c.description } : {}) }))
      },
      setupSnippets: (options) => setupSnippets({ ...options, authRequired: service.authRequired() }),
    }
  },
  formatError: formatCargoError,
})

export default cargoRegistry
