/**
 * The Maven 2 repository protocol (`type = "maven"`), mounted at `/proxy/{name}/maven2/`:
 * proxies an upstream repository (Maven Central by default) through the kernel's cache, hosts
 * artifacts deployed with `mvn deploy`, or both (hybrid, with merged maven-metadata.xml).
 */
import { defineRegistryPlugin, type ArtifactRequest, type RegistryRequest, type VersionSummary } from '@batlehub/sdk'
import { MavenConfig } from './config.ts'
import { packageName, splitPackageName } from './coordinates.ts'
import { handleGet } from './download.ts'
import { formatMavenError } from './errors.ts'
import { lastUpdatedToIso } from './metadata.ts'
import { mainExtension, parsePom } from './pom.ts'
import { setupSnippets } from './snippets.ts'
import { createUploads } from './upload.ts'
import { artifactKey, contentTypeOf, searchUpstream, upstreamArtifactMetadata, upstreamChecksum, type MavenContext } from './upstream.ts'
import { compareVersions, isPrerelease } from './version.ts'

export { MavenConfig } from './config.ts'
export { compareVersions, isPrerelease, isSnapshot } from './version.ts'

const UPSTREAM_POM_LIMIT = 4 * 1024 * 1024

export const mavenRegistry = defineRegistryPlugin({
  id: 'maven',
  config: MavenConfig,
  capabilities: { proxy: true, publish: true, search: true, yank: false },
  defaultUpstreams: ['https://repo1.maven.org/maven2'],
  setup(ctx) {
    const uploads = createUploads(ctx)
    const get = (req: RegistryRequest) => handleGet(ctx, req)
    ctx.routes.get('/maven2/*path', get, { summary: 'Maven 2 layout: artifacts, checksums, maven-metadata.xml' })
    ctx.routes.head('/maven2/*path', get)
    ctx.routes.put('/maven2/*path', (req) => uploads.handlePut(req), { summary: 'mvn deploy: one PUT per file (POM commits the version)' })

    return {
      listVersions: (name, { signal }) => listVersions(ctx, name, signal),
      artifactsFor: (name, version, { signal }) => artifactsFor(ctx, name, version, signal),
      searchUpstream: (query, { limit, signal }) => searchUpstream(ctx, query, limit, signal),
      setupSnippets: (options) => setupSnippets(options),
    }
  },
  formatError: formatMavenError,
})

export default mavenRegistry

/**
 * Local versions (with their publish times) first, then the upstream's from maven-metadata.xml.
 * Maven metadata has only a per-artifact `lastUpdated`, so upstream versions carry no publish time
 * except the newest one, which `lastUpdated` dates when it is also the `latest`.
 */
async function listVersions(ctx: MavenContext, name: string, signal?: AbortSignal): Promise<VersionSummary[] | null> {
  const coords = splitPackageName(name)
  if (!coords) return null
  const out = new Map<string, VersionSummary>()
  let found = false
  if (ctx.registry.mode !== 'proxy') {
    const pkg = await ctx.packages.getPackage(packageName(coords.groupId, coords.artifactId))
    if (pkg) {
      found = true
      for (const v of pkg.versions) {
        out.set(v.version, { version: v.version, publishedAt: v.publishedAt, prerelease: isPrerelease(v.version), ...(v.yanked ? { yanked: true } : {}) })
      }
    }
  }
  const upstreamOk = ctx.registry.mode === 'proxy' || (ctx.registry.mode === 'hybrid' && (ctx.registry.hybridMergeUpstream || !found))
  if (upstreamOk) {
    const meta = await upstreamArtifactMetadata(ctx, coords.groupId, coords.artifactId, signal)
    if (meta) {
      found = true
      const stamp = lastUpdatedToIso(meta.lastUpdated)
      for (const version of meta.versions) {
        if (out.has(version)) continue
        out.set(version, { version, prerelease: isPrerelease(version), ...(stamp && version === meta.latest ? { publishedAt: stamp } : {}) })
      }
    }
  }
  if (!found) return null
  return [...out.values()].sort((a, b) => compareVersions(b.version, a.version))
}

/** The POM and main artifact of an upstream version, for cache warming. */
async function artifactsFor(ctx: MavenContext, name: string, version: string, signal?: AbortSignal): Promise<ArtifactRequest[]> {
  const coords = splitPackageName(name)
  if (!coords || ctx.registry.mode === 'local') return []
  if (ctx.registry.mode === 'hybrid') {
    if (await ctx.packages.getVersion(name, version)) return []
  }
  const dir = `${coords.groupId.replace(/\./g, '/')}/${coords.artifactId}/${version}`
  const pomPath = `${dir}/${coords.artifactId}-${version}.pom`
  const request = async (path: string, extension: string): Promise<ArtifactRequest> => {
    const sha1 = ctx.config.verify_upstream_checksums ? await upstreamChecksum(ctx, path, 'sha1', signal, name).catch(() => null) : null
    return {
      key: artifactKey(path),
      name,
      version,
      upstream: { path: `/${path}` },
      contentType: contentTypeOf(extension),
      ...(sha1 ? { expect: { sha1 } } : {}),
    }
  }
  let packaging = 'jar'
  const res = await ctx.http.request({ path: `/${pomPath}`, ...(signal ? { signal } : {}) })
  if (res.status !== 200) {
    res.dispose()
    return []
  }
  try {
    packaging = parsePom(await res.buffer(UPSTREAM_POM_LIMIT)).packaging
  } catch (err) {
    ctx.log.warn('unreadable upstream POM; warming it as a jar artifact', { path: pomPath, err: (err as Error)?.message })
  }
  const out = [await request(pomPath, 'pom')]
  const ext = mainExtension(packaging)
  if (ext) out.push(await request(`${dir}/${coords.artifactId}-${version}.${ext}`, ext))
  return out
}
