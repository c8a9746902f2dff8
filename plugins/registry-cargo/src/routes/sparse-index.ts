/**
 * The sparse index below `/registry/`: `config.json`, one file per crate at its tiered path, and
 * `.crate` downloads at `/registry/dl/{crate}/{version}/download`.
 */
import { createHash } from 'node:crypto'
import { NotFoundError, reply, type RegistryReply, type RegistryRequest } from '@batlehub/sdk'
import { crateFilename } from '../local.ts'
import { findVersion } from '../metadata.ts'
import { crateFromIndexPath, isIndexableName, isSemver, versionKey } from '../names.ts'
import { filterCachedIndex, filterIndexText } from '../policy.ts'
import type { CargoService } from '../service.ts'

const INDEX_TYPE = 'text/plain; charset=utf-8'

/** Answers with a rendered document, honouring `If-None-Match` (cargo revalidates every index file). */
export function conditional(req: RegistryRequest, body: string, contentType: string, headers: Record<string, string> = {}): RegistryReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  const inm = req.header('if-none-match')
  const common = { etag, 'cache-control': 'no-cache', ...headers }
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return { status: 304, headers: common, body: null }
  return { status: 200, headers: { 'content-type': contentType, ...common }, body }
}

const notFound = (name: string) => new NotFoundError(`crate \`${name}\` does not exist in this registry`)

export function sparseIndexRoutes(service: CargoService): void {
  const { ctx } = service

  // Index configuration. With `auth-required`, an anonymous request is answered 401 by the kernel
  // (route permission releases:read), after which cargo retries with its token — and then sends
  // it on every index and download request of this registry.
  ctx.routes.get('/registry/config.json', (req) => {
    const config: Record<string, unknown> = {
      dl: `${req.baseUrl}/registry/dl/{crate}/{version}/download`,
      api: req.baseUrl,
    }
    if (service.authRequired()) config['auth-required'] = true
    return reply.json(config, 200, { 'cache-control': 'no-cache' })
  }, { summary: 'Sparse index configuration (dl, api, auth-required)' })

  // Downloads come before the index splat: `dl/{name}/{version}/download` has four segments, an
  // index file under the `dl` directory (`dl/xx/dlxx…`) three.
  ctx.routes.get('/registry/dl/:name/:version/download', async (req) => {
    const { name, version } = req.params as { name: string; version: string }
    if (!isIndexableName(name) || !isSemver(version)) throw notFound(`${name}@${version}`)
    const source = await service.resolve(name, req.identity, req.signal)
    if (source.kind === 'local') {
      const local = source.pkg.versions.find((v) => versionKey(v.version) === versionKey(version))
      if (local) {
        const served = await ctx.packages.serveFile(source.pkg.name, local.version, crateFilename(source.pkg.name, local.version), req, { contentType: 'application/gzip' })
        if (served) return served
        throw notFound(`${name}@${version}`)
      }
      const merged = source.upstream && findVersion(source.upstream.lines, version)
      if (!merged || !source.upstream) throw notFound(`${name}@${version}`)
      return ctx.cache.artifact(await service.artifactRequest(source.upstream, merged.line, req.signal), req)
    }
    if (source.kind !== 'upstream') throw notFound(`${name}@${version}`)
    const found = findVersion(source.upstream.lines, version)
    if (!found) throw notFound(`${name}@${version}`)
    return ctx.cache.artifact(await service.artifactRequest(source.upstream, found.line, req.signal), req)
  }, { permission: 'source:read', summary: 'Download a .crate (verified against the index checksum)' })

  ctx.routes.get('/registry/*path', async (req) => {
    const raw = req.params.path ?? ''
    const segments = (Array.isArray(raw) ? raw : String(raw).split('/')).filter((s) => s !== '')
    const name = crateFromIndexPath(segments)
    if (!name) throw new NotFoundError(`not an index file: /registry/${segments.join('/')}`)
    const source = await service.resolve(name, req.identity, req.signal)
    switch (source.kind) {
      case 'local': {
        const body = service.localIndexBody(source)
        if (!body) throw notFound(name)
        // Policy: blocked and too-young versions are left out for this caller.
        return conditional(req, filterIndexText(ctx, req.identity, name, body), INDEX_TYPE)
      }
      case 'upstream': {
        // Policy: unchanged files keep the cache's memoised bytes; filtered ones get their own ETag.
        const filtered = filterCachedIndex(ctx, req.identity, name, source.upstream.entry.body)
        if (filtered !== null) return conditional(req, filtered, INDEX_TYPE)
        return ctx.cache.serveMetadata(source.upstream.entry, req, { contentType: INDEX_TYPE })
      }
      default:
        throw notFound(name)
    }
  }, { summary: 'Sparse index file of a crate' })
}
