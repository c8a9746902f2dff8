/**
 * GET/HEAD of `/maven2/{path}`: artifacts, their checksums, and maven-metadata.xml, from the local
 * store first (modes `local`, `hybrid`) and the upstream cache for the rest (`proxy`, `hybrid`).
 */
import { createHash } from 'node:crypto'
import { NotFoundError, type RegistryReply, type RegistryRequest } from '@batlehub/sdk'
import { packageName, parseRepositoryPath, type ArtifactPath, type ChecksumAlgorithm, type MetadataPath } from './coordinates.ts'
import { digestHex, digestStream } from './checksums.ts'
import { localArtifactMetadata, localFileDigest, localPackage, renderLocalSnapshotMetadata } from './local.ts'
import { mergeArtifactMetadata, parseArtifactMetadata, renderArtifactMetadata } from './metadata.ts'
import { artifactKey, contentTypeOf, proxyArtifact, upstreamChecksum, upstreamMetadata, type MavenContext } from './upstream.ts'

/** The raw path below `/maven2/`. */
export function repositoryPath(req: RegistryRequest): string {
  return req.path.replace(/^\/maven2(?=\/|$)/, '')
}

export async function handleGet(ctx: MavenContext, req: RegistryRequest): Promise<RegistryReply> {
  const p = parseRepositoryPath(repositoryPath(req))
  if (p.kind === 'metadata') return serveMetadata(ctx, p, req)
  if (p.checksum) return serveArtifactChecksum(ctx, p, p.checksum, req)
  return serveArtifact(ctx, p, req)
}

/**
 * Hybrid mode's dependency-confusion guard (RegistryInfo.hybridMergeUpstream): unless merging is
 * switched on, an artifact that exists locally is served only from local, even when the caller
 * cannot see it.
 */
async function upstreamAllowed(ctx: MavenContext, groupId: string, artifactId: string): Promise<boolean> {
  if (ctx.registry.mode === 'proxy') return true
  if (ctx.registry.mode === 'local') return false
  if (ctx.registry.hybridMergeUpstream) return true
  return !(await ctx.packages.exists(packageName(groupId, artifactId)))
}

async function serveArtifact(ctx: MavenContext, p: ArtifactPath, req: RegistryRequest): Promise<RegistryReply> {
  if (ctx.registry.mode !== 'proxy') {
    const local = await ctx.packages.serveFile(packageName(p.groupId, p.artifactId), p.version, p.filename, req, { contentType: contentTypeOf(p.extension) })
    if (local) return local
    if (!(await upstreamAllowed(ctx, p.groupId, p.artifactId))) throw notFound(p.path)
  }
  return proxyArtifact(ctx, p, req)
}

async function serveArtifactChecksum(ctx: MavenContext, p: ArtifactPath, algorithm: ChecksumAlgorithm, req: RegistryRequest): Promise<RegistryReply> {
  const name = packageName(p.groupId, p.artifactId)
  if (ctx.registry.mode !== 'proxy') {
    const version = await ctx.packages.getVersion(name, p.version, { identity: req.identity })
    const file = version?.files.find((f) => f.filename === p.filename)
    if (file) {
      const hex = await localFileDigest(ctx, name, p.version, file, algorithm)
      if (hex) return checksumReply(hex, req)
    }
    if (!(await upstreamAllowed(ctx, p.groupId, p.artifactId))) throw notFound(`${p.path}.${algorithm}`)
  }
  if (p.fileVersion.endsWith('-SNAPSHOT')) {
    // Mutable upstream file: its checksum is as current as the upstream's.
    const hex = await upstreamChecksum(ctx, p.path, algorithm, req.signal, name)
    if (!hex) throw notFound(`${p.path}.${algorithm}`)
    return checksumReply(hex, req)
  }
  let upstreamFailure: unknown
  try {
    const hex = await upstreamChecksum(ctx, p.path, algorithm, req.signal, name)
    if (hex) return checksumReply(hex, req)
  } catch (err) {
    upstreamFailure = err
  }
  // No upstream checksum (or the upstream is down and it was never fetched): describe the cached bytes.
  const cached = await cachedArtifactDigest(ctx, p.path, algorithm)
  if (cached) return checksumReply(cached, req)
  if (upstreamFailure) throw upstreamFailure
  throw notFound(`${p.path}.${algorithm}`)
}

/** Digest of a proxied artifact as stored in the cache, computed once and remembered. */
async function cachedArtifactDigest(ctx: MavenContext, path: string, algorithm: ChecksumAlgorithm): Promise<string | null> {
  const key = artifactKey(path)
  if (!(await ctx.cache.hasArtifact(key))) return null
  const object = await ctx.storage.head(key)
  if (!object) return null
  if (algorithm === 'sha256') return object.sha256
  const recordKey = `cache:${path}:${object.sha256}`
  const remembered = await ctx.records.get<Record<string, string>>('digests', recordKey)
  if (remembered?.[algorithm]) return remembered[algorithm]!
  const got = await ctx.storage.get(key)
  if (!got) return null
  const all = await digestStream(got.body)
  await ctx.records.put('digests', recordKey, all)
  return all[algorithm]
}

type MetadataDoc = { body: Buffer; generated: boolean; entry?: Awaited<ReturnType<typeof upstreamMetadata>> }

/**
 * Resolves a maven-metadata.xml: generated from local records (version level for a local SNAPSHOT,
 * artifact level for a local artifact, merged with the upstream's in hybrid mode when allowed),
 * else the upstream's through the cache.
 */
async function resolveMetadata(ctx: MavenContext, p: MetadataPath, req: RegistryRequest): Promise<MetadataDoc | null> {
  const mode = ctx.registry.mode
  if (mode !== 'proxy') {
    if (p.snapshot) {
      const version = await ctx.packages.getVersion(packageName(p.snapshot.groupId, p.snapshot.artifactId), p.snapshot.version, { identity: req.identity })
      if (version) return generated(renderLocalSnapshotMetadata(version, p.snapshot.groupId, p.snapshot.artifactId))
      if (mode === 'local') return null
      if (!(await upstreamAllowed(ctx, p.snapshot.groupId, p.snapshot.artifactId))) return null
    } else if (p.artifact) {
      const { groupId, artifactId } = p.artifact
      const pkg = await localPackage(ctx, groupId, artifactId, req.identity)
      if (pkg && pkg.versions.length > 0) {
        const local = localArtifactMetadata(pkg, groupId, artifactId)
        if (mode === 'hybrid' && ctx.registry.hybridMergeUpstream) {
          const entry = await upstreamMetadata(ctx, p.path, req.signal, packageName(groupId, artifactId)).catch((err: unknown) => {
            // The local half is authoritative; an unreachable upstream must not hide it.
            ctx.log.warn('upstream metadata unavailable; serving local versions only', { path: p.path, err: (err as Error)?.message })
            return null
          })
          if (entry) {
            const upstream = { ...parseArtifactMetadata(entry.body, 'upstream maven-metadata.xml'), groupId, artifactId }
            return generated(renderArtifactMetadata(mergeArtifactMetadata(local, upstream)))
          }
        }
        return generated(renderArtifactMetadata(local))
      }
      if (mode === 'local') return null
      if (!(await upstreamAllowed(ctx, groupId, artifactId))) return null
    } else if (mode === 'local') {
      return null
    }
  }
  const about = p.snapshot ?? p.artifact
  const entry = await upstreamMetadata(ctx, p.path, req.signal, about ? packageName(about.groupId, about.artifactId) : undefined)
  return entry ? { body: entry.body, generated: false, entry } : null
}

function generated(xml: string): MetadataDoc {
  return { body: Buffer.from(xml, 'utf8'), generated: true }
}

async function serveMetadata(ctx: MavenContext, p: MetadataPath, req: RegistryRequest): Promise<RegistryReply> {
  const doc = await resolveMetadata(ctx, p, req)
  if (!doc) throw notFound(p.checksum ? `${p.path}.${p.checksum}` : p.path)
  // The checksum of metadata always describes the bytes this hub serves (generated or merged ones included).
  if (p.checksum) return checksumReply(digestHex(p.checksum, doc.body), req)
  if (doc.entry) return ctx.cache.serveMetadata(doc.entry, req, { contentType: 'text/xml' })
  const etag = `"${createHash('sha256').update(doc.body).digest('base64url')}"`
  const headers = { 'content-type': 'text/xml', etag, 'cache-control': 'no-cache' }
  if (req.header('if-none-match') === etag) return { status: 304, headers, body: null }
  return { status: 200, headers: { ...headers, 'content-length': String(doc.body.length) }, body: req.method === 'HEAD' ? null : doc.body }
}

function checksumReply(hex: string, req: RegistryRequest): RegistryReply {
  const body = Buffer.from(hex, 'latin1')
  return { status: 200, headers: { 'content-type': 'text/plain', 'content-length': String(body.length) }, body: req.method === 'HEAD' ? null : body }
}

function notFound(path: string): NotFoundError {
  return new NotFoundError(`${path} not found`)
}
