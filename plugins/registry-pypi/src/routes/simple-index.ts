/**
 * `/simple/` and `/simple/{project}/`: the Simple Repository API (PEP 503 HTML, PEP 691 JSON),
 * negotiated by `Accept`, local packages first.
 */
import { BASE_URL_PLACEHOLDER, NotFoundError, type Identity, type RegistryReply, type RegistryRequest } from '@batlehub/sdk'
import { isValidName, normalizeName } from '../names.ts'
import { negotiate, renderProject, renderRootIndex, parseRootIndex, type SimpleProject } from '../simple.ts'
import { localProject, mergeProjects } from '../local.ts'
import { renderedReply, type PypiService } from '../service.ts'
import { filterProject, renderFiltered } from '../policy.ts'

const VARY = { vary: 'Accept' }

function redirect(location: string): RegistryReply {
  return { status: 301, headers: { location, 'cache-control': 'max-age=3600' }, body: null }
}

/** Every local package name visible in the index (all pages of the store's listing). */
async function localNames(svc: PypiService, identity: Identity): Promise<string[]> {
  const names: string[] = []
  for (let offset = 0; ; ) {
    const page = await svc.ctx.packages.search('', { limit: 1000, offset, identity })
    for (const item of page.items) names.push(item.name)
    offset += page.items.length
    if (page.items.length === 0 || offset >= page.total) break
  }
  return names
}

export function simpleIndexRoutes(svc: PypiService): void {
  const { ctx } = svc
  let rootNames: { stamp: string; names: string[] } | undefined

  const root = async (req: RegistryRequest): Promise<RegistryReply> => {
    if (!req.path.endsWith('/')) return redirect(`${req.baseUrl}/simple/`)
    const { format, contentType } = negotiate(req.header('accept'))
    const local = svc.mode === 'proxy' ? [] : await localNames(svc, req.identity)
    if (svc.mode === 'local') return renderedReply(req, renderRootIndex(local, format), contentType, VARY)
    const entry = await svc.upstream.rootIndex(format, req.signal)
    if (svc.mode === 'proxy') {
      if (!entry) throw new NotFoundError('the upstream has no simple index')
      return ctx.cache.serveMetadata(entry, req, { contentType, headers: VARY })
    }
    // Hybrid: local names first, then the upstream's, parsed once per fetch of the upstream page.
    let upstreamNames: string[] = []
    if (entry) {
      const stamp = `${entry.key}@${entry.fetchedAt}/${entry.body.length}`
      if (rootNames?.stamp !== stamp) rootNames = { stamp, names: parseRootIndex(entry.body.toString('utf8'), entry.contentType) }
      upstreamNames = rootNames.names
    }
    const seen = new Set(local.map(normalizeName))
    const names = [...local, ...upstreamNames.filter((n) => !seen.has(normalizeName(n)))]
    return renderedReply(req, renderRootIndex(names, format), contentType, VARY)
  }

  const project = async (req: RegistryRequest): Promise<RegistryReply> => {
    const raw = req.params.project ?? ''
    // PEP 503 names only; anything else is no project at all (as on pypi.org).
    if (!isValidName(raw)) throw new NotFoundError(`Not Found: ${JSON.stringify(raw)} is not a valid project name`)
    const name = normalizeName(raw)
    // Like pypi.org: one canonical URL per project, everything else redirects to it.
    if (raw !== name || !req.path.endsWith('/')) return redirect(`${req.baseUrl}/simple/${encodeURIComponent(name)}/`)
    const { format, contentType } = negotiate(req.header('accept'))
    const where = await svc.resolve(name, req.identity)
    if (where.local && !where.upstream) {
      const page = localProject(where.local, req.baseUrl)
      // Policy: releases this caller may not download are left out.
      return renderedReply(req, renderProject(filterProject(ctx, req.identity, name, page) ?? page, format), contentType, VARY)
    }
    if (!where.upstream) throw new NotFoundError(`Not Found: no project named ${name}`)
    if (!where.local) {
      const entry = await svc.upstream.projectPage(name, format, req.signal)
      if (!entry) throw new NotFoundError(`Not Found: no project named ${name}`)
      // Policy: when a rule or block may apply, filter the parsed page (publish times come from the
      // JSON form); otherwise serve the cached bytes untouched.
      if (ctx.policy.mayFilter({ identity: req.identity, name })) {
        const lookup = await svc.upstream.project(name, req.signal)
        const filtered = lookup && filterProject(ctx, req.identity, name, lookup.project)
        if (filtered) return renderedReply(req, renderFiltered(filtered, format).replaceAll(BASE_URL_PLACEHOLDER, req.baseUrl), contentType, VARY)
      }
      return ctx.cache.serveMetadata(entry, req, { contentType, headers: VARY })
    }
    // Hybrid with hybrid_merge_upstream: local releases plus upstream releases the local package lacks.
    const lookup = await svc.upstream.project(name, req.signal).catch((err: unknown) => {
      ctx.log.warn('upstream project page unavailable; serving local releases only', { project: name, err: String(err) })
      return null
    })
    let merged: SimpleProject = localProject(where.local, BASE_URL_PLACEHOLDER)
    if (lookup) merged = mergeProjects(merged, lookup.project)
    merged = filterProject(ctx, req.identity, name, merged) ?? merged
    const body = renderProject(merged, format).replaceAll(BASE_URL_PLACEHOLDER, req.baseUrl)
    return renderedReply(req, body, contentType, VARY)
  }

  for (const method of ['get', 'head'] as const) {
    ctx.routes[method]('/simple', root, { summary: 'Simple API root index (PEP 503/691)' })
    ctx.routes[method]('/simple/:project', project, { summary: 'Simple API project page (PEP 503/691)' })
  }
}
