/**
 * The Go module proxy protocol (`GOPROXY`): `/{module}/@v/list`, `/{module}/@v/{version}.info|.mod|.zip`
 * and `/{module}/@latest`, with module paths case-encoded (`!x`). Proxy, local and hybrid modes;
 * private modules are uploaded as module zips with `PUT /{module}/@v/{version}.zip`.
 */
import { defineRegistryPlugin, NotFoundError, reply, type RegistryRequest, type SetupSnippet, type VersionSummary } from '@batlehub/sdk'
import { GoproxyConfig } from './config.ts'
import { compareVersions, escapePath, latestOf } from './module.ts'
import { parseGoPath, type GoPath } from './paths.ts'
import { publishModuleZip } from './upload.ts'
import { filterCachedList, filterList } from './policy.ts'

export const goproxyRegistry = defineRegistryPlugin({
  id: 'goproxy',
  config: GoproxyConfig,
  capabilities: { proxy: true, publish: true, search: false, yank: true },
  defaultUpstreams: ['https://proxy.golang.org'],
  setup(ctx) {
    const mode = ctx.registry.mode
    const immutableTtl = ctx.config.immutable_ttl_secs

    /** A document from the upstream proxies through the metadata cache; null on 404/410. */
    const upstream = (kind: 'list' | 'latest' | 'info' | 'mod', module: string, version?: string) => {
      const esc = escapePath(module)
      const path = kind === 'list' ? `/${esc}/@v/list` : kind === 'latest' ? `/${esc}/@latest` : `/${esc}/@v/${escapePath(version!)}.${kind}`
      return ctx.cache.metadata({
        key: `${kind}/${module}${version ? `@${version}` : ''}`,
        upstream: { path },
        // A tagged version's .info and .mod never change; lists and @latest follow the registry TTL.
        ...(kind === 'info' || kind === 'mod' ? { ttlSecs: immutableTtl } : {}),
        contentType: kind === 'info' || kind === 'latest' ? 'application/json' : 'text/plain; charset=utf-8',
      })
    }

    /** Local view of a module: null when the module is not hosted here (or not visible). */
    const localModule = async (module: string, req?: RegistryRequest) => {
      if (mode === 'proxy') return null
      return ctx.packages.getPackage(module, req ? { identity: req.identity } : {})
    }

    /** Whether the upstream may be asked about a module (the hybrid dependency-confusion guard). */
    const upstreamAllowed = (local: unknown) => mode !== 'local' && (!local || ctx.registry.hybridMergeUpstream)

    const notFound = (p: GoPath) =>
      new NotFoundError(`not found: ${p.module}${p.version ? `@${p.version}` : ''}: no such module or version`)

    const text = (body: string, contentType = 'text/plain; charset=utf-8') => ({
      status: 200,
      headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) },
      body,
    })

    const info = (version: string, time: string) => text(JSON.stringify({ Version: version, Time: time }), 'application/json')

    /** Versions of a module: local ones, plus the upstream list where allowed. */
    async function versionsOf(p: GoPath, req?: RegistryRequest): Promise<{ versions: string[]; local: Map<string, string> } | null> {
      const local = await localModule(p.module, req)
      const localTimes = new Map<string, string>()
      for (const v of local?.versions ?? []) if (!v.yanked) localTimes.set(v.version, v.publishedAt)
      let upstreamVersions: string[] = []
      let found = local !== null
      if (upstreamAllowed(local)) {
        const entry = await upstream('list', p.module)
        if (entry) {
          found = true
          upstreamVersions = entry.body.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean)
        }
      }
      if (!found) return null
      const all = [...new Set([...localTimes.keys(), ...upstreamVersions])].sort(compareVersions)
      return { versions: all, local: localTimes }
    }

    async function get(req: RegistryRequest) {
      const p = parseGoPath(req.path)
      // The checksum database is not proxied: a 404 tells the go command to ask it directly.
      if (p.kind === 'sumdb') throw new NotFoundError('this proxy does not serve a checksum database')
      ctx.policy.assert(req.identity, p.kind === 'zip' ? 'source:read' : 'releases:read')

      if (p.kind === 'list') {
        if (mode === 'proxy') {
          const entry = await upstream('list', p.module)
          if (!entry) throw notFound(p)
          // Policy: versions the caller may not download are left out (unchanged lists as cached).
          const filtered = filterCachedList(ctx, req.identity, p.module, entry.body)
          return filtered === null ? ctx.cache.serveMetadata(entry, req) : text(filtered)
        }
        const all = await versionsOf(p, req)
        if (!all) throw notFound(p)
        return text(filterList(ctx, req.identity, p.module, all.versions, all.local).map((v) => `${v}\n`).join(''))
      }

      if (p.kind === 'latest') {
        // Policy: deny_latest refuses exactly `@latest` (seed "Deny latest tag").
        await ctx.policy.checkArtifact({ identity: req.identity, name: p.module, requestedTag: '@latest', ip: req.ip, action: 'metadata' })
        if (mode === 'proxy') {
          const entry = await upstream('latest', p.module)
          if (!entry) throw notFound(p)
          return ctx.cache.serveMetadata(entry, req)
        }
        const all = await versionsOf(p, req)
        const latest = all && latestOf(all.versions)
        if (!all || !latest) {
          // No tagged version locally: let the upstream answer @latest (it may resolve a pseudo-version).
          const local = await localModule(p.module, req)
          if (upstreamAllowed(local)) {
            const entry = await upstream('latest', p.module)
            if (entry) return ctx.cache.serveMetadata(entry, req)
          }
          throw notFound(p)
        }
        const localTime = all.local.get(latest)
        if (localTime) return info(latest, localTime)
        const entry = await upstream('info', p.module, latest)
        if (!entry) throw notFound(p)
        return ctx.cache.serveMetadata(entry, req)
      }

      // .info, .mod, .zip of one version: local first.
      const version = p.version!
      const localVersion = mode === 'proxy' ? null : await ctx.packages.getVersion(p.module, version, { identity: req.identity })
      if (localVersion) {
        if (p.kind === 'info') return info(version, localVersion.publishedAt)
        const served = await ctx.packages.serveFile(p.module, version, `${version}.${p.kind}`, req, {
          contentType: p.kind === 'zip' ? 'application/zip' : 'text/plain; charset=utf-8',
        })
        if (served) return served
        throw notFound(p)
      }
      if (!upstreamAllowed(await localModule(p.module, req))) throw notFound(p)
      if (p.kind === 'zip') {
        const infoEntry = await upstream('info', p.module, version).catch(() => null)
        let publishedAt: string | undefined
        try {
          publishedAt = infoEntry ? (JSON.parse(infoEntry.body.toString('utf8')) as { Time?: string }).Time : undefined
        } catch {
          publishedAt = undefined
        }
        return ctx.cache.artifact({
          key: `zips/${p.module}/@v/${version}.zip`,
          name: p.module,
          version,
          upstream: { path: `/${escapePath(p.module)}/@v/${escapePath(version)}.zip` },
          contentType: 'application/zip',
          ...(publishedAt ? { publishedAt } : {}),
        }, req)
      }
      const entry = await upstream(p.kind, p.module, version)
      if (!entry) throw notFound(p)
      return ctx.cache.serveMetadata(entry, req)
    }

    ctx.routes.get('/*path', get, { permission: null, summary: 'GOPROXY protocol: list, info, mod, zip, @latest' })
    ctx.routes.head('/*path', get, { permission: null })
    ctx.routes.put('/*path', async (req) => {
      const p = parseGoPath(req.path)
      if (p.kind !== 'zip') throw new NotFoundError('upload a module zip: PUT /{module}/@v/{version}.zip')
      const result = await publishModuleZip(ctx, req, p.module, p.version!)
      return reply.json({ module: p.module, version: p.version, files: result.files.map((f) => ({ name: f.filename, sha256: f.sha256, size: f.size })) }, 201, result.headers as Record<string, string>)
    }, { summary: 'Upload a module zip' })

    return {
      async listVersions(name: string): Promise<VersionSummary[] | null> {
        const all = await versionsOf({ kind: 'list', module: name })
        if (!all) return null
        const out: VersionSummary[] = []
        for (const v of [...all.versions].reverse()) {
          let publishedAt = all.local.get(v)
          if (!publishedAt) {
            const entry = await upstream('info', name, v).catch(() => null)
            try {
              publishedAt = entry ? (JSON.parse(entry.body.toString('utf8')) as { Time?: string }).Time : undefined
            } catch {
              publishedAt = undefined
            }
          }
          out.push({ version: v, ...(publishedAt ? { publishedAt } : {}), prerelease: v.includes('-') })
        }
        return out
      },
      async artifactsFor(name: string, version: string) {
        return [{
          key: `zips/${name}/@v/${version}.zip`,
          name,
          version,
          upstream: { path: `/${escapePath(name)}/@v/${escapePath(version)}.zip` },
          contentType: 'application/zip',
        }]
      },
      setupSnippets({ baseUrl, mode: m }) {
        const snippets: SetupSnippet[] = [{
          title: 'Environment (go 1.13+)',
          language: 'shell',
          purpose: 'install',
          content: [
            `export GOPROXY="${baseUrl},direct"`,
            '# Private modules are not in the public checksum database:',
            'export GONOSUMDB="*"',
            'export GOFLAGS=-mod=mod',
            `# or permanently: go env -w GOPROXY="${baseUrl},direct" GONOSUMDB="*"`,
            '# With a token (HTTPS only: the go command never sends credentials over plain HTTP), add to ~/.netrc:',
            `#   machine ${new URL(baseUrl).hostname} login <user> password <token>`,
          ].join('\n'),
        }]
        if (m !== 'proxy') {
          snippets.push({
            title: 'Publish a module version',
            language: 'shell',
            purpose: 'publish',
            content: [
              '# From the module root at tag v1.0.0 (entries must be under {module}@{version}/):',
              'git archive --prefix=example.com/mymod@v1.0.0/ -o mymod-v1.0.0.zip v1.0.0',
              'curl -X PUT -H "Authorization: Bearer $BATLEHUB_TOKEN" -H "Content-Type: application/zip" \\',
              `  --data-binary @mymod-v1.0.0.zip "${baseUrl}/example.com/mymod/@v/v1.0.0.zip"`,
            ].join('\n'),
          })
        }
        return snippets
      },
    }
  },
  // The go command prints the response body of a failed request: plain text.
  formatError: (err) => ({ contentType: 'text/plain; charset=utf-8', body: `${err.message}\n` }),
})

export default goproxyRegistry
