/**
 * The `/-/` endpoints: ping, whoami, search, dist-tags listing, and a clear refusal of `npm login`
 * (the hub issues tokens itself; clients put them in `.npmrc` as `_authToken`).
 */
import { AuthenticationError, NotImplementedError, reply, type RegistryRequest } from '@batlehub/sdk'
import { localDistTags } from '../metadata.ts'
import type { NpmService } from '../service.ts'
import { searchUpstream, type SearchObject } from '../upstream.ts'
import { assertRead, nameOf } from './read.ts'

function intParam(v: string | null, fallback: number, min: number, max: number): number {
  const n = v === null || v === '' ? NaN : Number(v)
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback
}

export function registerMiscRoutes(svc: NpmService): void {
  const { routes, packages } = svc.ctx

  routes.get('/-/ping', () => reply.json({}), { permission: null, summary: 'npm ping' })

  routes.get('/-/whoami', (req) => {
    if (req.identity.role === 'anonymous') throw new AuthenticationError('not logged in: set an _authToken for this registry in .npmrc')
    return reply.json({ username: req.identity.userId })
  }, { permission: null, summary: 'npm whoami' })

  const login = () => {
    throw new NotImplementedError(
      `npm login is not supported by ${svc.ctx.registry.name}: create an API token in BatleHub and add it to .npmrc as //<host>/proxy/${svc.ctx.registry.name}/:_authToken=<token>`,
    )
  }
  routes.put('/-/user/:user', login, { permission: null, summary: 'npm adduser/login (refused with a hint)' })
  routes.post('/-/v1/login', login, { permission: null, summary: 'npm web login (refused with a hint)' })

  routes.get('/-/package/:name/dist-tags', async (req: RegistryRequest) => {
    assertRead(svc, req)
    const name = nameOf(req.params)
    const src = await svc.source(name, req.identity)
    if (src.kind === 'local') {
      const served = new Set(src.pkg.versions.filter((v) => !v.yanked).map((v) => v.version))
      return reply.json(localDistTags(src.pkg, served))
    }
    const doc = await svc.packumentDoc(name, 'abbreviated', req.identity, req.signal)
    return reply.json(doc['dist-tags'] ?? {})
  }, { permission: null, summary: 'npm dist-tag ls' })

  routes.get('/-/v1/search', async (req: RegistryRequest) => {
    assertRead(svc, req)
    const text = (req.query.get('text') ?? '').slice(0, 256)
    const size = intParam(req.query.get('size'), 20, 1, svc.ctx.config.max_search_results)
    const from = intParam(req.query.get('from'), 0, 0, 10_000)
    const objects: SearchObject[] = []
    let total = 0
    if (svc.mode !== 'proxy') {
      const local = await packages.search(text, { limit: size, offset: from, identity: req.identity })
      total += local.total
      for (const item of local.items) {
        objects.push({
          package: {
            name: item.name,
            ...(item.latest ? { version: item.latest } : {}),
            ...(item.description ? { description: item.description } : {}),
            date: item.updatedAt,
            keywords: [],
            maintainers: [],
            links: {},
          },
          score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } },
          searchScore: 1,
        })
      }
    }
    if (svc.mode !== 'local' && objects.length < size) {
      const upstreamFrom = Math.max(0, from - total)
      const up = await searchUpstream(svc.ctx, text, size - objects.length, upstreamFrom, req.signal)
      total += up.total
      let hits = up.objects.filter((o) => !objects.some((l) => l.package.name === o.package.name))
      if (svc.mode === 'hybrid') {
        // A name that exists locally is never shown with upstream data (dependency-confusion guard).
        const shadowed = await Promise.all(hits.map((o) => packages.exists(o.package.name)))
        hits = hits.filter((_, i) => !shadowed[i])
      }
      objects.push(...hits)
    }
    return reply.json({ objects, total, time: new Date(svc.ctx.clock.now()).toUTCString() })
  }, { permission: null, summary: 'npm search' })
}
