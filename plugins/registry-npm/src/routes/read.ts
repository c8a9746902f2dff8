/**
 * Reads: packuments (full and abbreviated), version documents, tarballs.
 *
 * URL forms: `/{name}`, `/@scope/name`, `/@scope%2fname`, `/%40scope%2fname`; version documents
 * `/{name}/{version|dist-tag}`; tarballs at the path the packument gives (`/{name}/-/{bare}-{v}.tgz`,
 * `/@scope/name/-/name-1.0.0.tgz`) and at the encoded-scope form pnpm and yarn build themselves.
 */
import { BASE_URL_PLACEHOLDER, InputError, NotFoundError, type RegistryRequest } from '@batlehub/sdk'
import { packumentForm } from '../accept.ts'
import { resolveSpec } from '../metadata.ts'
import { parseName, versionOfTarball, type PackageName } from '../names.ts'
import type { NpmService } from '../service.ts'

/** The package name of a route's parameters (`name`, or `scope` + `pkg`), or a 400. */
export function nameOf(params: Readonly<Record<string, string>>): PackageName {
  const raw = params.scope !== undefined ? `@${params.scope}/${params.pkg}` : params.name!
  const name = parseName(raw)
  if (!name) throw new InputError(`Invalid package name: ${JSON.stringify(raw)}`)
  return name
}

/**
 * Packument reads need `releases:read` or `source:read`: a private registry that grants users only
 * `source:read` (the documented set-up) must still let them install.
 */
export function assertRead(svc: NpmService, req: RegistryRequest): void {
  const p = svc.ctx.policy
  if (p.can(req.identity, 'releases:read') || p.can(req.identity, 'source:read')) return
  p.assert(req.identity, 'releases:read')
}

export function registerReadRoutes(svc: NpmService): void {
  const { routes } = svc.ctx

  const tarball = async (req: RegistryRequest) => {
    const name = nameOf(req.params)
    const file = req.params.file!
    const version = versionOfTarball(name, file)
    if (!version) throw new NotFoundError(`no tarball ${file} for ${name.name}`)
    if (svc.mode !== 'proxy') {
      const src = await svc.source(name, req.identity)
      if (src.kind !== 'upstream') {
        const local = await svc.ctx.packages.serveFile(name.name, version, file, req, { contentType: 'application/octet-stream' })
        if (local) return local
        if (src.kind === 'local') throw new NotFoundError(`${name.name}@${version} not found`)
      }
    }
    const ref = await svc.tarballRef(name, version, req.signal)
    if (!ref) throw new NotFoundError(`${name.name}@${version} not found`)
    // The kernel checks the download (blocklist, age gate); the publish time is looked up only
    // when an age gate applies to this caller.
    const publishedAt = await svc.policy.publishedAt(name, version, req.identity, req.signal)
    return svc.ctx.cache.artifact({ ...svc.artifactRequest(name, version, ref), ...(publishedAt ? { publishedAt } : {}) }, req)
  }

  const packument = async (req: RegistryRequest, name: PackageName) => {
    assertRead(svc, req)
    return svc.servePackument(req, name, packumentForm(req.header('accept')))
  }

  const versionDoc = async (req: RegistryRequest, name: PackageName, spec: string) => {
    assertRead(svc, req)
    const doc = await svc.packumentDoc(name, 'full', req.identity, req.signal)
    // Policy: `/{name}/latest` is refused under deny_latest; a refused version's document too.
    const exact = typeof doc.versions === 'object' && doc.versions !== null && Object.hasOwn(doc.versions, spec)
    const time = exact && typeof doc.time?.[spec] === 'string' ? doc.time[spec] as string : undefined
    await svc.ctx.policy.checkArtifact({
      identity: req.identity, name: name.name, ip: req.ip, action: 'metadata',
      ...(exact ? { version: spec, ...(time ? { publishedAt: time } : {}) } : { requestedTag: spec }),
    })
    const manifest = resolveSpec(doc, spec)
    if (!manifest) throw new NotFoundError(`version not found: ${name.name}@${spec}`)
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest).replaceAll(BASE_URL_PLACEHOLDER, req.baseUrl) }
  }

  for (const method of ['get', 'head'] as const) {
    // Tarballs: source archives.
    routes[method]('/@:scope/:pkg/-/:file', tarball, { permission: 'source:read', summary: 'Tarball of a scoped package' })
    routes[method]('/:name/-/:file', tarball, { permission: 'source:read', summary: 'Tarball' })
    routes[method]('/@:scope/:pkg/:spec', (req) => versionDoc(req, nameOf(req.params), req.params.spec!), { permission: null, summary: 'Version document of a scoped package' })
    routes[method]('/@:scope/:pkg', (req) => {
      // `/@scope%2fname/1.0.0` lands here with scope "scope/name": a version document.
      if (req.params.scope!.includes('/')) return versionDoc(req, nameOf({ name: `@${req.params.scope}` }), req.params.pkg!)
      return packument(req, nameOf(req.params))
    }, { permission: null, summary: 'Packument of a scoped package' })
    routes[method]('/:name/:spec', (req) => versionDoc(req, nameOf(req.params), req.params.spec!), { permission: null, summary: 'Version document' })
    routes[method]('/:name', (req) => packument(req, nameOf(req.params)), { permission: null, summary: 'Packument (full, or abbreviated by Accept)' })
  }
}
