/** `/pypi/{project}/json` and `/pypi/{project}/{version}/json`: PyPI's JSON API. */
import { NotFoundError, type RegistryReply, type RegistryRequest } from '@batlehub/sdk'
import { isValidName, normalizeName, parseVersion, canonicalVersion } from '../names.ts'
import { renderLocalJsonApi } from '../json-api.ts'
import { renderedReply, type PypiService } from '../service.ts'

export function jsonApiRoutes(svc: PypiService): void {
  const { ctx } = svc

  const serve = async (req: RegistryRequest): Promise<RegistryReply> => {
    const raw = req.params.project ?? ''
    const rawVersion = req.params.version
    if (!isValidName(raw)) throw new NotFoundError('Not Found')
    if (rawVersion !== undefined && (rawVersion.length > 128 || !/^[A-Za-z0-9._!+-]+$/.test(rawVersion))) throw new NotFoundError('Not Found')
    const name = normalizeName(raw)
    const where = await svc.resolve(name, req.identity)
    if (where.local) {
      // A local release is looked up by its PEP 440 form (`1.0` finds `1.0.0`).
      const version = rawVersion === undefined
        ? undefined
        : where.local.versions.find((v) => v.version === rawVersion || (parseVersion(rawVersion) && canonicalVersion(v.version) === canonicalVersion(rawVersion)))?.version
      if (rawVersion === undefined || version !== undefined || !where.upstream) {
        const doc = rawVersion !== undefined && version === undefined ? null : renderLocalJsonApi(where.local, version, req.baseUrl)
        if (!doc) throw new NotFoundError('Not Found')
        return renderedReply(req, JSON.stringify(doc), 'application/json')
      }
    }
    if (!where.upstream || !svc.upstream.hasJsonApi) throw new NotFoundError('Not Found')
    const entry = await svc.upstream.jsonApi(name, rawVersion, req.signal)
    if (!entry) throw new NotFoundError('Not Found')
    return ctx.cache.serveMetadata(entry, req, { contentType: 'application/json' })
  }

  for (const method of ['get', 'head'] as const) {
    ctx.routes[method]('/pypi/:project/json', serve, { summary: 'JSON API: project' })
    ctx.routes[method]('/pypi/:project/:version/json', serve, { summary: 'JSON API: release' })
  }
}
