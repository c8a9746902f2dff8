/**
 * The PyPI registry type: the Simple Repository API (PEP 503 HTML, PEP 691 JSON) and the JSON API,
 * proxied with URL rewriting and cached; twine uploads (`POST /legacy/`) in local and hybrid modes.
 */
import { defineRegistryPlugin, type ArtifactRequest, type UpstreamSearchHit, type VersionSummary } from '@batlehub/sdk'
import { PypiConfig } from './config.ts'
import { formatPypiError } from './errors.ts'
import { compareVersions, isPrerelease, isValidName, normalizeName, parseDistributionFilename, canonicalVersion } from './names.ts'
import { PypiService } from './service.ts'
import { artifactRequest } from './upstream.ts'
import { versionsFromJsonApi, isDistributionFile, type JsonApiDoc } from './json-api.ts'
import { pypiSetupSnippets } from './snippets.ts'
import { simpleIndexRoutes } from './routes/simple-index.ts'
import { fileRoutes } from './routes/files.ts'
import { jsonApiRoutes } from './routes/json-api.ts'
import { uploadRoutes } from './routes/upload.ts'

export { PypiConfig } from './config.ts'
export { formatPypiError } from './errors.ts'
export { normalizeName } from './names.ts'

export const pypiRegistry = defineRegistryPlugin({
  id: 'pypi',
  config: PypiConfig,
  capabilities: { proxy: true, publish: true, search: true, yank: true },
  defaultUpstreams: ['https://pypi.org'],
  setup(ctx) {
    const svc = new PypiService(ctx)
    simpleIndexRoutes(svc)
    fileRoutes(svc)
    jsonApiRoutes(svc)
    uploadRoutes(svc)

    /** Upstream versions: the JSON API has upload times; the simple JSON page is the fallback. */
    async function upstreamVersions(name: string, signal?: AbortSignal): Promise<VersionSummary[] | null> {
      if (svc.upstream.hasJsonApi) {
        const entry = await svc.upstream.jsonApi(name, undefined, signal)
        if (entry) return versionsFromJsonApi(JSON.parse(entry.body.toString('utf8')) as JsonApiDoc)
      }
      const lookup = await svc.upstream.project(name, signal)
      if (!lookup) return null
      const byVersion = new Map<string, { times: string[]; yanked: boolean[] }>()
      for (const f of lookup.project.files) {
        const parsed = parseDistributionFilename(f.filename, name)
        if (!parsed) continue
        const slot = byVersion.get(parsed.version) ?? { times: [], yanked: [] }
        if (f.uploadTime) slot.times.push(f.uploadTime)
        slot.yanked.push(f.yanked !== false)
        byVersion.set(parsed.version, slot)
      }
      return [...byVersion].map(([version, s]) => ({
        version,
        ...(s.times.length ? { publishedAt: new Date(s.times.sort()[0]!).toISOString() } : {}),
        prerelease: isPrerelease(version),
        yanked: s.yanked.every(Boolean),
      }))
    }

    return {
      normalizeName,

      async listVersions(name, { signal }) {
        if (!isValidName(name)) return null
        const local = svc.mode === 'proxy' ? null : await ctx.packages.getPackage(name)
        const out: VersionSummary[] = []
        for (const v of local?.versions ?? []) {
          if (!v.files.some(isDistributionFile)) continue
          out.push({ version: v.version, publishedAt: v.publishedAt, prerelease: v.prerelease || isPrerelease(v.version), yanked: v.yanked })
        }
        // Same rule as the index: a local package hides the upstream one unless merging is on.
        const askUpstream = svc.mode === 'proxy' || (svc.mode === 'hybrid' && (!local || ctx.registry.hybridMergeUpstream))
        const upstream = askUpstream ? await upstreamVersions(name, signal) : null
        if (!local && !upstream) return null
        const have = new Set(out.map((v) => canonicalVersion(v.version)))
        for (const v of upstream ?? []) if (!have.has(canonicalVersion(v.version))) out.push(v)
        return out.sort((a, b) => compareVersions(b.version, a.version))
      },

      async artifactsFor(name, version, { signal }): Promise<ArtifactRequest[]> {
        // Warming fills the proxy cache; local files are already stored.
        if (svc.mode === 'local' || !isValidName(name)) return []
        if (svc.mode === 'hybrid' && (await ctx.packages.exists(name)) && !ctx.registry.hybridMergeUpstream) return []
        const lookup = await svc.upstream.project(name, signal)
        if (!lookup) return []
        const want = canonicalVersion(version)
        const out: ArtifactRequest[] = []
        for (const f of lookup.files.values()) {
          const parsed = parseDistributionFilename(f.filename, name)
          if (!parsed || canonicalVersion(parsed.version) !== want) continue
          const req = artifactRequest(name, f.filename, lookup.files)
          if (req) out.push(req)
        }
        return out
      },

      async searchUpstream(query, { limit, signal }): Promise<UpstreamSearchHit[]> {
        // PyPI has no search API (seed: exact name lookup via the JSON API).
        const name = query.trim()
        if (limit < 1 || !isValidName(name) || ctx.registry.searchUrl === '' || svc.mode === 'local') return []
        const doc = await svc.upstream.lookupByName(name, signal)
        const info = doc?.info
        if (!info || typeof info.name !== 'string') return []
        return [{
          name: info.name,
          ...(typeof info.version === 'string' ? { latestVersion: info.version } : {}),
          ...(typeof info.summary === 'string' && info.summary ? { description: info.summary } : {}),
        }]
      },

      setupSnippets: pypiSetupSnippets,
    }
  },
  formatError: formatPypiError,
})

export default pypiRegistry
