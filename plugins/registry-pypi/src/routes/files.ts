/**
 * `/files/{project}/{filename}`: distribution downloads and their PEP 658 `.metadata` companions.
 * Local files come from the package store; upstream files only from URLs the upstream's own index
 * lists for that project, through the artifact cache with the index's digests.
 */
import { NotFoundError, type RegistryReply, type RegistryRequest } from '@batlehub/sdk'
import { canonicalVersion, isSafeFilename, isValidName, normalizeName, parseDistributionFilename } from '../names.ts'
import { findLocalFile } from '../local.ts'
import { fileContentType } from '../upstream.ts'
import type { PypiService } from '../service.ts'

export function fileRoutes(svc: PypiService): void {
  const { ctx } = svc

  const serve = async (req: RegistryRequest): Promise<RegistryReply> => {
    const rawProject = req.params.project ?? ''
    const filename = req.params.filename ?? ''
    const missing = () => new NotFoundError(`Not Found: ${filename}`)
    if (!isValidName(rawProject) || !isSafeFilename(filename)) throw missing()
    const name = normalizeName(rawProject)
    const isMetadata = filename.endsWith('.metadata')
    const dist = parseDistributionFilename(isMetadata ? filename.slice(0, -'.metadata'.length) : filename, name)
    if (!dist) throw missing()
    // Source distributions are source archives (seed: `source:read`); wheels and metadata are releases.
    if (dist.kind === 'sdist' && !isMetadata) ctx.policy.assert(req.identity, 'source:read')
    const contentType = fileContentType(filename)

    const where = await svc.resolve(name, req.identity)
    if (where.local) {
      const hit = findLocalFile(where.local, filename)
      if (hit) {
        const reply = await ctx.packages.serveFile(where.local.name, hit.version.version, filename, req, { contentType })
        if (reply) return reply
        throw missing()
      }
      // Merged hybrid: an upstream file of a release that exists locally is never served.
      const version = canonicalVersion(dist.version)
      if (where.local.versions.some((v) => canonicalVersion(v.version) === version)) throw missing()
    }
    if (!where.upstream) throw missing()
    const artifact = await svc.upstream.artifact(name, filename, req.signal)
    if (!artifact) throw missing()
    return ctx.cache.artifact(artifact, req)
  }

  for (const method of ['get', 'head'] as const) {
    ctx.routes[method]('/files/:project/:filename', serve, { summary: 'Distribution file or its core metadata (PEP 658)' })
  }
}
