/**
 * The npm registry protocol, for npm, pnpm and yarn: proxy/cache of an upstream registry (default
 * the public one), private publishing (local mode), and both at once (hybrid mode).
 */
import { ANONYMOUS, defineRegistryPlugin, type SetupSnippet } from '@batlehub/sdk'
import { NpmConfig } from './config.ts'
import { formatNpmError } from './errors.ts'
import { parseName } from './names.ts'
import { NpmService } from './service.ts'
import { registerMiscRoutes } from './routes/misc.ts'
import { registerReadRoutes } from './routes/read.ts'
import { registerWriteRoutes } from './routes/write.ts'
import { searchUpstream, toHit } from './upstream.ts'

export { NpmConfig } from './config.ts'

export const npmRegistry = defineRegistryPlugin({
  id: 'npm',
  config: NpmConfig,
  capabilities: { proxy: true, publish: true, search: true, yank: false },
  defaultUpstreams: ['https://registry.npmjs.org'],
  setup(ctx) {
    const svc = new NpmService(ctx)
    // Order matters: the `/-/…` endpoints before the `/{name}/{spec}` patterns they would match.
    registerMiscRoutes(svc)
    registerWriteRoutes(svc)
    registerReadRoutes(svc)
    return {
      // npm names are case-sensitive (legacy capitals exist upstream): kept as they are.
      normalizeName: (name: string) => name,
      async listVersions(name, { signal }) {
        const parsed = parseName(name)
        if (!parsed) return null
        return svc.listVersions(parsed, ANONYMOUS_ADMIN, signal)
      },
      async artifactsFor(name, version, { signal }) {
        const parsed = parseName(name)
        if (!parsed || ctx.registry.mode === 'local') return []
        if (ctx.registry.mode === 'hybrid' && (await ctx.packages.exists(parsed.name))) return []
        const ref = await svc.tarballRef(parsed, version, signal)
        return ref ? [svc.artifactRequest(parsed, version, ref)] : []
      },
      async searchUpstream(query, { limit, signal }) {
        if (ctx.registry.mode === 'local') return []
        const res = await searchUpstream(ctx, query, limit, 0, signal)
        return res.objects.map(toHit)
      },
      setupSnippets({ baseUrl, registryName, mode }): SetupSnippet[] {
        const url = `${baseUrl.replace(/\/+$/, '')}/`
        const hostPath = url.replace(/^https?:/, '')
        const auth = `${hostPath}:_authToken=\${BATLEHUB_TOKEN}`
        const snippets: SetupSnippet[] = [
          { title: '.npmrc (install through the hub)', language: 'ini', purpose: 'install', content: `registry=${url}\n${auth}\n` },
          { title: '.npmrc (one scope only)', language: 'ini', purpose: 'install', content: `@myorg:registry=${url}\n${auth}\n` },
        ]
        if (mode !== 'proxy') {
          snippets.push({
            title: `Publish to ${registryName}`,
            language: 'shell',
            purpose: 'publish',
            content: `# .npmrc\n@myorg:registry=${url}\n${auth}\n\nnpm publish --registry ${url}\n`,
          })
        }
        return snippets
      },
    }
  },
  formatError: formatNpmError,
})

/**
 * Hooks run for the kernel (warming, explorer), not for a client: they see every package.
 */
const ANONYMOUS_ADMIN = Object.freeze({ ...ANONYMOUS, subject: 'system:npm', userId: 'system', role: 'admin' as const, provider: 'system' })

export default npmRegistry
